using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Channels;

/// <summary>
/// The shape every command on an existing channel shares: lock and load the visible channel, decide, append at the
/// loaded version with the write-side state moving in the same transaction (retrying on a concurrent change from a
/// command that does not lock); an empty decision answers the stream's head position and appends nothing.
/// </summary>
public static class ChannelChange
{
    public static Task<PositionResponse> RunAsync(
        ChatEventStore store, string channelId, Actor actor, Func<ChannelState, Task<IReadOnlyList<object>>> decide, CancellationToken ct) =>
        ChatEventStore.RetryOnConflict(() => store.InTransactionAsync(async (tx, token) =>
        {
            var channel = await ChannelState.LockVisibleAsync(tx, channelId, actor, token);
            var events = await decide(channel);
            var stream = Ids.ChannelStream(channelId);
            if (events.Count == 0)
            {
                return new PositionResponse(await store.HeadPositionAsync(stream, token));
            }
            var result = await store.AppendAsync(tx, stream, ExpectedVersion.Exactly(channel.Version), events, actor, ct: token);
            await ApplyAsync(tx, channelId, events, result.Version, token);
            return new PositionResponse(result.Position);
        }, ct));

    /// <summary>Write-side state for channel events (never messages): derivable from the log, one statement per event.</summary>
    public static async Task ApplyAsync(NpgsqlTransaction tx, string channelId, IEnumerable<object> events, long version, CancellationToken ct)
    {
        foreach (var e in events)
        {
            await (e switch
            {
                ChannelRenamed r => tx.ExecuteAsync("update ws_channels set name = $2 where channel_id = $1", ct, channelId, r.Name),
                ChannelTopicSet t => tx.ExecuteAsync("update ws_channels set topic = $2 where channel_id = $1", ct, channelId, t.Topic),
                ChannelArchived => tx.ExecuteAsync("update ws_channels set archived = true where channel_id = $1", ct, channelId),
                ChannelUnarchived => tx.ExecuteAsync("update ws_channels set archived = false where channel_id = $1", ct, channelId),
                MemberJoined j => tx.ExecuteAsync(
                    "insert into ws_channel_members (channel_id, user_id) values ($1, $2) on conflict do nothing", ct, channelId, j.UserId),
                MemberLeft l => tx.ExecuteAsync(
                    "delete from ws_channel_members where channel_id = $1 and user_id = $2", ct, channelId, l.UserId),
                _ => throw new InvalidOperationException($"{e.GetType().Name} is not a channel state change."),
            });
        }
        await ChannelState.SetVersionAsync(tx, channelId, version, ct);
    }

    public static void EnsureNotDm(ChannelState channel, string what)
    {
        if (channel.IsDm)
        {
            throw CommandRejected.Invalid($"A direct message cannot be {what}.");
        }
    }

    /// <summary>Archiving and removing members: the channel's creator or a workspace admin.</summary>
    public static void EnsureCreatorOrAdmin(ChannelState channel, string actorId, string what)
    {
        if (channel.CreatedBy != actorId && !channel.ActorIsAdmin)
        {
            throw CommandRejected.Forbidden($"Only the channel's creator or a workspace admin may {what}.");
        }
    }
}
