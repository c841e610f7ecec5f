using EventSourcedChat.EventStore;
using EventSourcedChat.Gateway.Telemetry;
using Npgsql;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// The hand-over from the log to live delivery, per connection, without a gap or a duplicate (see
/// <see cref="ConnectionState"/>): on the client's Resume, after a local user joined a channel, and after the node's
/// broker connection was lost and recovered. Each holds the connection's live events, replays the log with
/// <see cref="LogReplay"/>, then releases the held events after the last replayed one. One at a time per connection.
/// </summary>
public sealed class ResumeHandOver(
    ConnectionRegistry registry, LogReplay replay, HandOverStats stats, GatewayMetrics metrics, ILogger<ResumeHandOver> logger)
{
    /// <summary>
    /// Replays, in (transaction id, position) order, every channel event after the client's cursor in the caller's
    /// channels, then hands over to live delivery.
    /// </summary>
    public async Task ResumeAsync(string connectionId, long position, CancellationToken ct)
    {
        if (registry.Find(connectionId) is not { } state)
        {
            return;
        }
        metrics.Resumed();
        await state.ResumeGate.WaitAsync(ct);
        try
        {
            var skip = state.BeginResume();
            var lastReplayed = LogCursor.Start;
            try
            {
                lastReplayed = await replay.ReplayAsync(state, position, skip, ct);
            }
            finally
            {
                state.EndResume(lastReplayed);
            }
        }
        finally
        {
            state.ResumeGate.Release();
        }
    }

    /// <summary>
    /// After a join (the connection holds its live events, see <see cref="ChannelBindings.JoinAsync"/>): once the
    /// connection has started (its first Resume, or the end of its grace), replays from the log every event of its
    /// channels after what it was delivered, then releases the held live events without a repeat.
    /// </summary>
    internal async Task AfterJoinAsync(ConnectionState state, LogCursor joined)
    {
        try
        {
            await state.Started;
            await state.ResumeGate.WaitAsync();
            try
            {
                if (!state.TakeJoinHandOver(joined, out var from))
                {
                    return;
                }
                var lastReplayed = LogCursor.Start;
                try
                {
                    lastReplayed = await replay.ReplayFromAsync(state, from, from.Position, new HashSet<long>(), CancellationToken.None);
                }
                finally
                {
                    state.EndResume(lastReplayed);
                }
            }
            finally
            {
                state.ResumeGate.Release();
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning(e, "Hand-over after a join failed for {ConnectionId}; sending resync.required", state.ConnectionId);
            replay.SendResync(state, state.LastDelivered.Position);
        }
    }

    /// <summary>The node's broker connection is lost: every connection holds live events until <see cref="RecoverAsync"/>.</summary>
    internal void BrokerLost()
    {
        foreach (var state in registry.All())
        {
            state.HoldLive();
        }
    }

    /// <summary>
    /// After the node's broker connection was lost and recovered (queue, bindings and consumer re-declared), whatever
    /// was routed to the node meanwhile is gone: every connection re-runs the hand-over from its last delivered cursor
    /// (live events are held from the loss until the log is replayed), so it misses nothing and repeats nothing. A
    /// connection that was still waiting for its first Resume needs nothing (its Resume reads the log); one with no
    /// cursor yet gets <c>resync.required</c>.
    /// </summary>
    internal async Task RecoverAsync(CancellationToken ct)
    {
        var states = registry.All();
        logger.LogWarning("Broker connection recovered: re-running the hand-over for {Count} connections", states.Count);
        await Parallel.ForEachAsync(states, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (state, token) =>
        {
            try
            {
                await AfterLossAsync(state, token);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Hand-over after the broker recovery failed for {ConnectionId}; sending resync.required", state.ConnectionId);
                replay.SendResync(state, state.LastDelivered.Position);
            }
        });
        Interlocked.Increment(ref stats.Recoveries);
    }

    private async Task AfterLossAsync(ConnectionState state, CancellationToken ct)
    {
        await state.ResumeGate.WaitAsync(ct);
        try
        {
            if (!state.TakeRecovery(out var from))
            {
                return;
            }
            var lastReplayed = LogCursor.Start;
            try
            {
                if (from == LogCursor.Start)
                {
                    replay.SendResync(state, 0);
                }
                else
                {
                    lastReplayed = await replay.ReplayFromAsync(state, from, from.Position, new HashSet<long>(), ct);
                }
            }
            finally
            {
                state.EndResume(lastReplayed);
            }
        }
        finally
        {
            state.ResumeGate.Release();
        }
    }
}
