using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
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
        var stream = Ids.UserStream(actor.UserId);
        return await ChatEventStore.RetryOnConflict(async () =>
        {
            var (workspace, channel) = await ChannelWriteSide.LoadAsync(store.DataSource, channelId, actor.UserId, ChannelSlice.None, ct);
            ChannelRules.EnsureVisible(workspace, channel, actor.UserId);
            var user = await UserWriteSide.LoadReadMarkerAsync(store.Log, actor.UserId, channelId, ct);
            if (Decide(workspace, channel, user, command, actor.UserId) is not { } moved)
            {
                return TypedResults.Ok(new PositionResponse(await store.HeadPositionAsync(stream, ct)));
            }
            var result = await store.AppendAsync(stream, ExpectedVersion.Exactly(user.Version), [moved], actor,
                (_, tx, token) => UserWriteSide.ApplyAsync(tx, actor.UserId, [moved], token), ct: ct);
            return TypedResults.Ok(new PositionResponse(result.Position));
        });
    }
}
