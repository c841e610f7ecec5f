using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Messages;

public sealed record MoveReadMarker(long? Seq);

public static class MoveReadMarkerEndpoint
{
    /// <summary>
    /// A member marks the channel read up to a seq that exists (1 to the channel's version). The marker never moves
    /// backwards: a seq at or below the current marker decides nothing (null). Archived channels can still be read.
    /// </summary>
    public static ReadMarkerMoved? Decide(WorkspaceState workspace, ChannelState channel, UserState user, MoveReadMarker command, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        ChannelRules.EnsureMember(channel, actorId);
        if (command.Seq is not { } seq || seq < 1 || seq > channel.Version)
        {
            throw CommandRejected.Invalid($"seq is a position in the channel, from 1 to {channel.Version}.");
        }
        return seq <= user.ReadMarkerOf(channel.ChannelId) ? null : new ReadMarkerMoved(actorId, channel.ChannelId, seq);
    }

    public static RouteGroupBuilder MapMoveReadMarker(this RouteGroupBuilder group)
    {
        group.MapPost("/channels/{channelId}/read", Handle).WithName("MoveReadMarker");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, MoveReadMarker command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var result = await UserPipeline.RunAsync(store, actor.UserId, actor,
            async (tx, token) =>
            {
                var (workspace, channel) = await ChannelWriteSide.LoadAsync(tx, channelId, actor.UserId, ChannelSlice.None, token);
                ChannelRules.EnsureVisible(workspace, channel, actor.UserId);
                return (workspace, channel, User: await UserWriteSide.LoadReadMarkerAsync(store.Log, tx, actor.UserId, channelId, token));
            },
            loaded => loaded.User,
            loaded => Decide(loaded.workspace, loaded.channel, loaded.User, command, actor.UserId) is { } moved ? [moved] : [], ct);
        return TypedResults.Ok(new PositionResponse(result?.Position ?? await store.HeadPositionAsync(Ids.UserStream(actor.UserId), ct)));
    }
}
