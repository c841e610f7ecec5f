using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Channels;

/// <param name="Join">True to join, false to leave.</param>
public sealed record JoinLeaveChannel(bool Join);

public static class JoinLeaveChannelEndpoint
{
    /// <summary>
    /// A workspace member joins a live public channel (a member joining again changes nothing), or a member leaves
    /// any channel but a DM (whose member set is fixed). Private channels are joined only by invitation.
    /// </summary>
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, ChannelState channel, JoinLeaveChannel command, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        if (command.Join)
        {
            if (channel.IsMember(actorId))
            {
                return [];
            }
            if (channel.IsPrivate)
            {
                throw CommandRejected.NotFound("The channel");
            }
            ChannelRules.EnsureNotArchived(channel);
            return [new MemberJoined(channel.ChannelId, actorId, null)];
        }
        ChannelChange.EnsureNotDm(channel, "left");
        ChannelRules.EnsureMember(channel, actorId);
        return [new MemberLeft(channel.ChannelId, actorId, null)];
    }

    public static RouteGroupBuilder MapJoinLeaveChannel(this RouteGroupBuilder group)
    {
        group.MapPost("/channels/{channelId}/join", (string channelId, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, new JoinLeaveChannel(true), http, store, ct)).WithName("JoinChannel");
        group.MapPost("/channels/{channelId}/leave", (string channelId, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, new JoinLeaveChannel(false), http, store, ct)).WithName("LeaveChannel");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, JoinLeaveChannel command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, ChannelSlice.None,
            ChannelPipeline.Pure((workspace, channel) => Decide(workspace, channel, command, actor.UserId)), ct));
    }
}
