using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.EventStore;
using EventSourcedChat.Gateway.Telemetry;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// Replays to one connection, from the log, every event of its user's channels after a cursor, in (transaction id,
/// position) order and in pages (<see cref="RealtimeOptions.ResumePageSize"/>); answers <c>resync.required</c> when the
/// cursor names no event or the backlog is above <see cref="RealtimeOptions.MaxResumeBacklog"/>. Reads go through the
/// event store's <see cref="StreamSetReader"/>; events are mapped to messages as the push worker maps them.
/// </summary>
public sealed class LogReplay(
    StreamSetReader log, MemberChannels members, ConnectionRegistry registry, RealtimeOptions options, GatewayMetrics metrics)
{
    /// <summary>Awaited when a replay starts (live events are already held): lets tests hold a replay in its middle.</summary>
    internal Func<Task>? ReplayStarting { get; set; }

    /// <summary>Replays after a client's cursor (a global position; 0 or less: from the beginning).</summary>
    internal async Task<LogCursor> ReplayAsync(ConnectionState state, long position, IReadOnlySet<long> skip, CancellationToken ct)
    {
        LogCursor? from = position <= 0 ? LogCursor.Start : await log.CursorOfAsync(position, ct);
        if (from is null)
        {
            SendResync(state, position);
            return LogCursor.Start;
        }
        return await ReplayFromAsync(state, from.Value, position, skip, ct);
    }

    /// <summary>
    /// Replays after a subscription cursor, skipping the positions in <paramref name="skip"/>; answers the last cursor
    /// read (<see cref="LogCursor.Start"/> when it answered <c>resync.required</c> with <paramref name="position"/>).
    /// </summary>
    internal async Task<LogCursor> ReplayFromAsync(
        ConnectionState state, LogCursor from, long position, IReadOnlySet<long> skip, CancellationToken ct)
    {
        if (ReplayStarting is { } starting)
        {
            await starting();
        }
        var channels = await members.ReadAsync(state.UserId, ct);
        // Channels joined while connected, which the directory may not have applied yet.
        registry.AddJoinedChannels(state, channels);
        var streams = channels.Select(c => new StreamFrom(StreamNames.Channel(c.Key), c.Value)).ToList();
        if (await log.CountExceedsAsync(streams, from, options.MaxResumeBacklog, ct))
        {
            SendResync(state, position);
            return LogCursor.Start;
        }
        var cursor = from;
        // Channels the user left within the replayed range: nothing after their member.left is replayed, even when
        // the directory has not caught up with the leave yet (invariant 8).
        var left = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var page = await log.ReadAfterAsync(streams, cursor, options.ResumePageSize, ct);
            foreach (var e in page)
            {
                cursor = e.Cursor;
                if (PushRouting.ToMessage(e.StreamId, e.Version, e.Type, e.Data, e.TxId, e.Position, e.CreatedAt) is not { ChannelId: { } channelId } message)
                {
                    continue;
                }
                if (message.UserId == state.UserId && message.Type == RealtimeTypes.MemberJoined)
                {
                    left.Remove(channelId); // joined again
                }
                if (left.Contains(channelId))
                {
                    continue;
                }
                if (message.UserId == state.UserId && message.Type == RealtimeTypes.MemberLeft)
                {
                    left.Add(channelId);
                }
                if (registry.Receives(state, channelId) && !skip.Contains(e.Position))
                {
                    state.Replay(message);
                }
            }
            if (page.Count < options.ResumePageSize)
            {
                return cursor;
            }
        }
    }

    /// <summary>Tells the client to refetch with REST: what it missed after <paramref name="position"/> is not replayed.</summary>
    internal void SendResync(ConnectionState state, long position)
    {
        metrics.ResyncRequired();
        state.Send(new RealtimeEnvelope(RealtimeTypes.ResyncRequired, null, null, null, DateTimeOffset.UtcNow,
            JsonSerializer.SerializeToElement(new { position }, EventTypes.Json)));
    }
}
