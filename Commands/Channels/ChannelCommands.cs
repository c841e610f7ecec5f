using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Channels;

/// <summary>The channel command endpoints; one slice per file in this folder.</summary>
public static class ChannelCommands
{
    public static RouteGroupBuilder MapChannelCommands(this RouteGroupBuilder group)
    {
        group.MapCreateChannel();
        group.MapUpdateChannel();
        group.MapArchiveChannel();
        group.MapJoinLeaveChannel();
        group.MapChannelMembers();
        group.MapOpenDm();
        group.MapLegalHold();
        return group;
    }
}
