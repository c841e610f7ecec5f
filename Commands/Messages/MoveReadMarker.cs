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
    public static ReadMarkerMoved? Decide(ChannelState channel, long currentMarker, MoveReadMarker command, string actorId)
    {
        ChannelRules.EnsureMember(channel);
        if (command.Seq is not { } seq || seq < 1 || seq > channel.Version)
        {
            throw CommandRejected.Invalid($"seq is a position in the channel, from 1 to {channel.Version}.");
        }
        return seq <= currentMarker ? null : new ReadMarkerMoved(actorId, channel.ChannelId, seq);
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
            var channel = await ChannelState.LoadVisibleAsync(store.DataSource, channelId, actor, ct);
            // Read the stream version before the marker: a marker written in between makes the append conflict and retry.
            var version = await store.Log.GetStreamVersionAsync(stream, ct);
            await using var cmd = store.DataSource.Command(
                "select seq from ws_read_markers where user_id = $1 and channel_id = $2", actor.UserId, channelId);
            var current = await cmd.ExecuteScalarAsync(ct) is long s ? s : 0;
            if (Decide(channel, current, command, actor.UserId) is not { } moved)
            {
                return TypedResults.Ok(new PositionResponse(await store.HeadPositionAsync(stream, ct)));
            }
            var result = await store.AppendAsync(stream, ExpectedVersion.Exactly(version), [moved], actor,
                (appended, tx, token) => tx.ExecuteAsync("""
                    insert into ws_read_markers (user_id, channel_id, seq) values ($1, $2, $3)
                    on conflict (user_id, channel_id) do update set seq = excluded.seq
                    """, token, actor.UserId, channelId, moved.Seq), ct: ct);
            return TypedResults.Ok(new PositionResponse(result.Position));
        });
    }
}
