using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Messages;

/// <summary>The message command endpoints; one slice per file in this folder.</summary>
public static class MessageCommands
{
    public static RouteGroupBuilder MapMessageCommands(this RouteGroupBuilder group)
    {
        group.MapPostMessage();
        group.MapEditMessage();
        group.MapDeleteMessage();
        group.MapReactions();
        group.MapPins();
        group.MapMoveReadMarker();
        return group;
    }
}
