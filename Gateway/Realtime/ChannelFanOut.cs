using EventSourcedChat.Gateway.Telemetry;
using System.Buffers;
using System.Text.Json;
using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.EventStore;
using EventSourcedChat.Projections.Push;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// Joins a connection to its user's channels, keeps one broker binding per channel with local members (and one per
/// connected user), fans received events out to local connections in order, and replays missed events on Resume.
/// </summary>
/// <remarks>
/// Every connection also joins the SignalR groups <c>channel:{id}</c> of its channels (typing is sent to them); channel
/// events themselves go through each connection's own ordered queue (<see cref="ConnectionState"/>)
/// because the resume hand-over needs per-connection buffering and de-duplication.
/// </remarks>
public sealed class ChannelFanOut(
    RealtimeBroker broker, IHubContext<ChatHub, IChatClient> hub, NpgsqlDataSource db, RealtimeOptions options,
    ILogger<ChannelFanOut> logger, ChatHubLifetimeManager lifetime, GatewayMetrics metrics)
{
    private readonly SemaphoreSlim _topology = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ConnectionState> _connections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ConnectionState>> _byChannel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ConnectionState>> _byUser = new(StringComparer.Ordinal);

    public HandOverStats Stats { get; } = new();

    /// <summary>How many hub connections this node has (metrics).</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_gate)
            {
                return _connections.Count;
            }
        }
    }

    public static string ChannelGroup(string channelId) => $"channel:{channelId}";


    /// <summary>How many channels this node is bound to (tests, metrics).</summary>
    public int BoundChannelCount
    {
        get
        {
            lock (_gate)
            {
                return _byChannel.Count;
            }
        }
    }

    public async Task ConnectedAsync(string connectionId, string userId, CancellationToken ct)
    {
        var connection = lifetime.Find(connectionId)
            ?? throw new InvalidOperationException($"connection {connectionId} is not registered with the hub's lifetime manager");
        await DirectoryCaughtUpAsync(ct);
        var channels = await ReadChannelsAsync(userId, ct);
        var state = new ConnectionState(connection, userId, options.ResumeGrace, Stats, logger, metrics);
        var keys = new List<string>();
        await _topology.WaitAsync(ct);
        try
        {
            lock (_gate)
            {
                _connections[connectionId] = state;
                if (Add(_byUser, userId, state))
                {
                    keys.Add(PushRouting.UserKey(userId));
                }
                foreach (var channelId in channels.Keys)
                {
                    state.Channels.Add(channelId);
                    if (Add(_byChannel, channelId, state))
                    {
                        keys.Add(channelId);
                    }
                }
            }
            foreach (var key in keys)
            {
                await broker.BindAsync(key, ct);
            }
        }
        finally
        {
            _topology.Release();
        }
        ForgetAccessToken(connection);
        foreach (var channelId in channels.Keys)
        {
            await hub.Groups.AddToGroupAsync(connectionId, ChannelGroup(channelId), ct);
        }
    }

    /// <summary>
    /// The upgraded request of a WebSocket connection stays in memory as long as the connection; a browser's bearer token
    /// is in its query string (browsers cannot send a header on a WebSocket), held there three times (the raw target,
    /// the query string and the parsed query). Authentication is done by now and nothing reads them again, so they are
    /// dropped: about 2 KB per connection with a 700-character token, and the token no longer appears in the request's
    /// end-of-request log line.
    /// </summary>
    private static void ForgetAccessToken(HubConnectionContext connection)
    {
        if (connection.GetHttpContext() is not { } http || !http.Request.Query.ContainsKey("access_token"))
        {
            return;
        }
        http.Request.Query = QueryCollection.Empty;
        if (http.Features.Get<IHttpRequestFeature>() is { } request)
        {
            request.RawTarget = (http.Request.PathBase + http.Request.Path).ToString();
        }
    }

    public async Task DisconnectedAsync(string connectionId, string userId)
    {
        var keys = new List<string>();
        ConnectionState? state;
        await _topology.WaitAsync();
        try
        {
            lock (_gate)
            {
                if (!_connections.Remove(connectionId, out state))
                {
                    return;
                }
                if (Remove(_byUser, userId, state))
                {
                    keys.Add(PushRouting.UserKey(userId));
                }
                foreach (var channelId in state.Channels)
                {
                    if (Remove(_byChannel, channelId, state))
                    {
                        keys.Add(channelId);
                    }
                }
            }
            foreach (var key in keys)
            {
                await broker.UnbindAsync(key);
            }
        }
        finally
        {
            _topology.Release();
        }
    }

    /// <summary>A message from the node's queue (called one at a time, in queue order).</summary>
    internal async Task OnMessageAsync(PushMessage message)
    {
        var memberEvent = message.Type is "member.joined" or "member.left";
        List<ConnectionState> handOver = [];
        if (message.Type == "member.joined" && message.UserId is not null && message.ChannelId is not null && message.Seq is { } joinedSeq)
        {
            // Bound before the joiner sees member.joined; what the binding came too late for is handed over from the log.
            handOver = await JoinLocalAsync(message.UserId, message.ChannelId, joinedSeq);
        }
        // Serialized once for every local connection it goes to.
        var live = new LiveEvent(message);
        if (memberEvent || !message.IsChannelEvent)
        {
            // Rare: the channel's connections and the user's (a connection can be in both: once each).
            var targets = new HashSet<ConnectionState>();
            lock (_gate)
            {
                if (message.IsChannelEvent && message.ChannelId is not null && _byChannel.TryGetValue(message.ChannelId, out var inChannel))
                {
                    targets.UnionWith(inChannel);
                }
                if (message.UserId is not null && _byUser.TryGetValue(message.UserId, out var ofUser))
                {
                    targets.UnionWith(ofUser);
                }
            }
            foreach (var target in targets)
            {
                target.OfferLive(live);
            }
        }
        else if (message.ChannelId is not null)
        {
            // The common case: a copy of the channel's connections in a pooled array (no allocation per message),
            // delivered outside the registry lock so connects and disconnects are not held up by a large fan-out.
            ConnectionState[]? targets = null;
            var count = 0;
            lock (_gate)
            {
                if (_byChannel.TryGetValue(message.ChannelId, out var inChannel))
                {
                    targets = ArrayPool<ConnectionState>.Shared.Rent(inChannel.Count);
                    inChannel.CopyTo(targets);
                    count = inChannel.Count;
                }
            }
            if (targets is not null)
            {
                try
                {
                    for (var i = 0; i < count; i++)
                    {
                        targets[i].OfferLive(live);
                    }
                }
                finally
                {
                    ArrayPool<ConnectionState>.Shared.Return(targets, clearArray: true);
                }
            }
        }
        if (message.Type == "member.left" && message.UserId is not null && message.ChannelId is not null)
        {
            // The leaver gets member.left, then nothing more from the channel, on every device.
            await LeaveLocalAsync(message.UserId, message.ChannelId);
        }
        foreach (var state in handOver)
        {
            _ = HandOverAfterJoinAsync(state, message.Cursor);
        }
    }

    /// <summary>Hook awaited before the node binds a channel for a joiner (tests hold the binding back with it).</summary>
    internal Func<Task>? BindingForJoin { get; set; }

    /// <summary>
    /// Adds the channel to the joiner's local connections, binding it when no local connection was in it. The push
    /// worker may have sent the channel's events after the join before the binding took effect (this one, or the one a
    /// member's join made just before), and those were routed nowhere: the joiner's connections therefore hold their
    /// live events (answered here) until <see cref="HandOverAfterJoinAsync"/> has replayed the log.
    /// </summary>
    private async Task<List<ConnectionState>> JoinLocalAsync(string userId, string channelId, long joinedSeq)
    {
        List<ConnectionState> added = [];
        var bind = false;
        await _topology.WaitAsync();
        try
        {
            lock (_gate)
            {
                if (!_byUser.TryGetValue(userId, out var connections))
                {
                    return [];
                }
                foreach (var c in connections.Where(c => c.Channels.Add(channelId)))
                {
                    c.JoinedSeqs[channelId] = joinedSeq;
                    c.HoldLive();
                    bind |= Add(_byChannel, channelId, c);
                    added.Add(c);
                }
            }
            if (bind)
            {
                if (BindingForJoin is { } binding)
                {
                    await binding();
                }
                await broker.BindAsync(channelId);
            }
        }
        finally
        {
            _topology.Release();
        }
        foreach (var c in added)
        {
            await hub.Groups.AddToGroupAsync(c.ConnectionId, ChannelGroup(channelId));
        }
        return added;
    }

    /// <summary>
    /// After a join: once the connection has started (its first Resume, or the end
    /// of its grace), replays from the log every event of its channels after what it was delivered, then releases the
    /// held live events without a repeat, as after a broker loss.
    /// </summary>
    private async Task HandOverAfterJoinAsync(ConnectionState state, LogCursor joined)
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
                    lastReplayed = await ReplayFromAsync(state, state.UserId, from, from.Position, new HashSet<long>(), CancellationToken.None);
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
            SendResync(state, state.LastDelivered.Position);
        }
    }

    private async Task LeaveLocalAsync(string userId, string channelId)
    {
        List<string> removed = [];
        await _topology.WaitAsync();
        try
        {
            var unbind = false;
            lock (_gate)
            {
                if (!_byUser.TryGetValue(userId, out var connections))
                {
                    return;
                }
                foreach (var c in connections.Where(c => c.Channels.Remove(channelId)))
                {
                    c.JoinedSeqs.Remove(channelId);
                    unbind |= Remove(_byChannel, channelId, c);
                    removed.Add(c.ConnectionId);
                }
            }
            if (unbind)
            {
                await broker.UnbindAsync(channelId);
            }
        }
        finally
        {
            _topology.Release();
        }
        foreach (var connectionId in removed)
        {
            await hub.Groups.RemoveFromGroupAsync(connectionId, ChannelGroup(channelId));
        }
    }

    /// <summary>
    /// Replays, in (transaction id, position) order, every channel event after the client's cursor in the caller's
    /// channels, then hands over to live delivery without a gap or a duplicate (see <see cref="ConnectionState"/>).
    /// </summary>
    public async Task ResumeAsync(string connectionId, string userId, long position, CancellationToken ct)
    {
        ConnectionState? state;
        lock (_gate)
        {
            _connections.TryGetValue(connectionId, out state);
        }
        if (state is null)
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
                lastReplayed = await ReplayAsync(state, userId, position, skip, ct);
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

    /// <summary>The node's broker connection is lost: every connection holds live events until <see cref="RecoverAsync"/>.</summary>
    internal void BrokerLost()
    {
        lock (_gate)
        {
            foreach (var state in _connections.Values)
            {
                state.HoldLive();
            }
        }
    }

    /// <summary>
    /// After the node's broker connection was lost and recovered (queue, bindings and consumer re-declared), whatever
    /// was routed to the node meanwhile is gone: every connection re-runs the hand-over from its last delivered cursor
    /// (live events are held from the loss until the log is replayed), so it misses nothing and repeats nothing. A connection that
    /// was still waiting for its first Resume needs nothing (its Resume reads the log); one with no cursor yet gets
    /// <c>resync.required</c>.
    /// </summary>
    internal async Task RecoverAsync(CancellationToken ct)
    {
        List<ConnectionState> states;
        lock (_gate)
        {
            states = [.. _connections.Values];
        }
        logger.LogWarning("Broker connection recovered: re-running the hand-over for {Count} connections", states.Count);
        await Parallel.ForEachAsync(states, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (state, token) =>
        {
            try
            {
                await ResumeAfterLossAsync(state, token);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Hand-over after the broker recovery failed for {ConnectionId}; sending resync.required", state.ConnectionId);
                SendResync(state, state.LastDelivered.Position);
            }
        });
        Interlocked.Increment(ref Stats.Recoveries);
    }

    private async Task ResumeAfterLossAsync(ConnectionState state, CancellationToken ct)
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
                    SendResync(state, 0);
                }
                else
                {
                    lastReplayed = await ReplayFromAsync(state, state.UserId, from, from.Position, new HashSet<long>(), ct);
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

    private void SendResync(ConnectionState state, long position)
    {
        metrics.ResyncRequired();
        state.Send(new RealtimeEnvelope("resync.required", null, null, null, DateTimeOffset.UtcNow,
            JsonSerializer.SerializeToElement(new { position }, Contracts.Events.EventTypes.Json)));
    }

    private async Task<LogCursor> ReplayAsync(ConnectionState state, string userId, long position, IReadOnlySet<long> skip, CancellationToken ct)
    {
        LogCursor? from = position <= 0 ? LogCursor.Start : await CursorOfAsync(position, ct);
        if (from is null)
        {
            SendResync(state, position);
            return LogCursor.Start;
        }
        return await ReplayFromAsync(state, userId, from.Value, position, skip, ct);
    }

    /// <summary>Awaited when a replay starts (live events are already held): lets tests hold a replay in its middle.</summary>
    internal Func<Task>? ReplayStarting { get; set; }

    private async Task<LogCursor> ReplayFromAsync(
        ConnectionState state, string userId, LogCursor from, long position, IReadOnlySet<long> skip, CancellationToken ct)
    {
        if (ReplayStarting is { } starting)
        {
            await starting();
        }
        var channels = await ReadChannelsAsync(userId, ct);
        lock (_gate)
        {
            // Channels joined while connected, which the directory may not have applied yet.
            foreach (var (channelId, joinedSeq) in state.JoinedSeqs)
            {
                channels.TryAdd(channelId, joinedSeq);
            }
        }
        if (await BacklogExceedsAsync(channels, from, options.MaxResumeBacklog, ct))
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
            var page = await ReadPageAsync(channels, cursor, options.ResumePageSize, ct);
            foreach (var e in page)
            {
                cursor = e.Cursor;
                if (PushRouting.ToMessage(e) is not { ChannelId: { } channelId } message)
                {
                    continue;
                }
                if (message.UserId == userId && message.Type == "member.joined")
                {
                    left.Remove(channelId); // joined again
                }
                if (left.Contains(channelId))
                {
                    continue;
                }
                if (message.UserId == userId && message.Type == "member.left")
                {
                    left.Add(channelId);
                }
                bool member;
                lock (_gate)
                {
                    member = state.Channels.Contains(channelId);
                }
                if (member && !skip.Contains(e.Position))
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

    /// <summary>The subscription cursor of the event at a global position, or null when there is none.</summary>
    private async Task<LogCursor?> CursorOfAsync(long position, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select tx_id from es_events where position = $1");
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = position });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new LogCursor(reader.GetFieldValue<ulong>(0), position) : null;
    }

    /// <summary>
    /// Read-your-writes for a new connection: its channels come from the directory projection, so it waits (bounded by
    /// <see cref="ReadYourWrites.MaxWait"/>) until the directory has applied the log as it stands now. Otherwise a user
    /// who joined a channel and connected at once, while the directory lagged, would get neither that channel's replay
    /// nor its live events on this connection (the <c>member.joined</c> push may have come before the connection).
    /// After the bound it goes on with the directory as it is, as a query with <c>minPosition</c> would answer 503.
    /// </summary>
    private async Task DirectoryCaughtUpAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select position from es_events order by tx_id desc, position desc limit 1");
        if (await cmd.ExecuteScalarAsync(ct) is long head
            && !await ReadYourWrites.CaughtUpAsync(db, head, [ChannelAccess.Directory], ct))
        {
            logger.LogWarning("The directory projection has not reached position {Head}: connecting with the channels it has", head);
        }
    }

    /// <summary>The user's channels and the seq they joined each at (rm_directory.channel_members).</summary>
    private async Task<Dictionary<string, long>> ReadChannelsAsync(string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select channel_id, joined_seq from rm_directory.channel_members where user_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var channels = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            channels[reader.GetString(0)] = reader.GetInt64(1);
        }
        return channels;
    }

    private const string InChannels = """
        from es_events e
        join unnest($1::text[], $2::bigint[]) as m(stream_id, joined_seq) on e.stream_id = m.stream_id and e.version >= m.joined_seq
        where (e.tx_id, e.position) > ($3::xid8, $4) and e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
        """;

    private async Task<bool> BacklogExceedsAsync(Dictionary<string, long> channels, LogCursor after, int max, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"select count(*) from (select 1 {InChannels} limit $5) backlog");
        AddChannelParameters(cmd, channels, after);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = max + 1 });
        return (long)(await cmd.ExecuteScalarAsync(ct))! > max;
    }

    private async Task<List<RecordedEvent>> ReadPageAsync(Dictionary<string, long> channels, LogCursor after, int limit, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            select e.position, e.tx_id, e.stream_id, e.version, e.event_id, e.type, e.data::text, e.metadata::text,
                   e.created_at, e.prev_hash, e.hash
            {InChannels}
            order by e.tx_id, e.position limit $5
            """);
        AddChannelParameters(cmd, channels, after);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var page = new List<RecordedEvent>();
        while (await reader.ReadAsync(ct))
        {
            page.Add(new RecordedEvent(
                reader.GetInt64(0), reader.GetFieldValue<ulong>(1), reader.GetString(2), reader.GetInt64(3), reader.GetGuid(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetFieldValue<DateTimeOffset>(8),
                reader.GetFieldValue<byte[]>(9), reader.GetFieldValue<byte[]>(10)));
        }
        return page;
    }

    private static void AddChannelParameters(NpgsqlCommand cmd, Dictionary<string, long> channels, LogCursor after)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string[]>
        {
            TypedValue = channels.Keys.Select(c => PushRouting.ChannelStreamPrefix + c).ToArray(),
        });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = channels.Values.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<ulong> { TypedValue = after.TxId, NpgsqlDbType = NpgsqlDbType.Xid8 });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.Position });
    }

    /// <summary>Adds to a set in the map; true when the set was empty before (the first local one: bind).</summary>
    private static bool Add(Dictionary<string, HashSet<ConnectionState>> map, string key, ConnectionState state)
    {
        if (!map.TryGetValue(key, out var set))
        {
            map[key] = set = [];
        }
        return set.Add(state) && set.Count == 1;
    }

    /// <summary>Removes from a set in the map; true when it became empty (the last local one: unbind).</summary>
    private static bool Remove(Dictionary<string, HashSet<ConnectionState>> map, string key, ConnectionState state)
    {
        if (!map.TryGetValue(key, out var set) || !set.Remove(state))
        {
            return false;
        }
        if (set.Count == 0)
        {
            map.Remove(key);
            return true;
        }
        return false;
    }
}
