using EventSourcedChat.Gateway.Telemetry;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Gateway.Hosting;
using EventSourcedChat.Gateway.Realtime;
using Microsoft.AspNetCore.SignalR;
using Npgsql;
using StackExchange.Redis;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// Presence in Redis, shared by every gateway node.
/// <list type="bullet">
/// <item><c>presence:{userId}</c> = <c>active</c>|<c>away</c> with a TTL (65 s): no key is offline.</item>
/// <item><c>presence:conns:{userId}</c>: a hash with one field per node that has connections of the user (same TTL).</item>
/// <item><c>presence:node:{nodeId}</c>: the node's liveness (same TTL), renewed while the node runs.</item>
/// </list>
/// A node writes when a user's first local connection opens, on <c>SetPresence</c>, when their last local connection
/// closes, and otherwise only when a key it keeps alive is near expiry (a timer, <see cref="RefreshAsync"/>), never per
/// heartbeat. On a user's last local disconnect the node removes its field, drops the fields of nodes whose liveness key
/// is gone, and deletes the presence key (publishing offline) only when no field is left: another live node still holds
/// connections otherwise. A node that dies stops renewing: its users' keys expire within the TTL and every node, told by
/// Redis's keyspace notification for expired keys, delivers offline to its subscribers. All writes are Lua scripts that
/// change the key and publish on <c>presence</c> in one step, so the published order is the order of the changes.
/// Redis errors are logged and never reach the hub: presence then reads as <c>unknown</c>.
/// </summary>
public sealed class PresenceService(
    RedisConnection redis,
    PresenceOptions options,
    LocalConnections local,
    SerialDispatch dispatch,
    IHubContext<ChatHub, IChatClient> hub,
    NpgsqlDataSource db,
    ILogger<PresenceService> logger,
    GatewayMetrics metrics) : IPresenceReader
{
    public const int MaxSubscriptions = 500;

    private const string TouchScript = """
        redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
        redis.call('HSET', KEYS[2], ARGV[1], '1')
        redis.call('PEXPIRE', KEYS[2], ARGV[2])
        if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 1 then return 0 end
        redis.call('SET', KEYS[1], 'active', 'PX', ARGV[2])
        redis.call('PUBLISH', ARGV[3], cjson.encode({userId = ARGV[4], status = 'active'}))
        return 1
        """;

    private const string SetScript = """
        redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
        redis.call('HSET', KEYS[2], ARGV[1], '1')
        redis.call('PEXPIRE', KEYS[2], ARGV[2])
        local old = redis.call('GET', KEYS[1])
        redis.call('SET', KEYS[1], ARGV[5], 'PX', ARGV[2])
        if old ~= ARGV[5] then
          redis.call('PUBLISH', ARGV[3], cjson.encode({userId = ARGV[4], status = ARGV[5]}))
        end
        return 1
        """;

    // Node liveness keys are read by name (not declared in KEYS): fine on one Redis, not on Redis Cluster.
    private const string LeaveScript = """
        redis.call('HDEL', KEYS[2], ARGV[1])
        for _, other in ipairs(redis.call('HKEYS', KEYS[2])) do
          if redis.call('EXISTS', ARGV[4] .. other) == 0 then redis.call('HDEL', KEYS[2], other) end
        end
        if redis.call('HLEN', KEYS[2]) > 0 then return 0 end
        if redis.call('DEL', KEYS[1]) == 1 then
          redis.call('PUBLISH', ARGV[2], cjson.encode({userId = ARGV[3], status = 'offline'}))
        end
        return 1
        """;

    // Connect, disconnect, SetPresence and refresh of one user run one at a time on this node (striped locks).
    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    // When this node last wrote each user's presence key (Stopwatch ticks); absent or 0 means "write at the next tick".
    private readonly ConcurrentDictionary<string, long> _written = new(StringComparer.Ordinal);

    private readonly Lock _subsGate = new();
    private readonly Dictionary<string, HashSet<string>> _watchers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);

    public async Task ConnectedAsync(string connectionId, string userId)
    {
        var stripe = Stripe(userId);
        await stripe.WaitAsync();
        try
        {
            if (local.Add(userId, connectionId) == 1)
            {
                await TouchAsync(userId);
            }
        }
        finally
        {
            stripe.Release();
        }
    }

    public async Task DisconnectedAsync(string connectionId, string userId)
    {
        Unsubscribe(connectionId);
        var stripe = Stripe(userId);
        await stripe.WaitAsync();
        try
        {
            if (local.Remove(userId, connectionId) > 0)
            {
                return;
            }
            _written.TryRemove(userId, out _);
            await TryRedisAsync("leave", async db =>
            {
                await db.ScriptEvaluateAsync(LeaveScript,
                    [options.PresenceKey(userId), options.ConnectionsKey(userId)],
                    [options.NodeId, options.PresenceChannel, userId, options.NodeKeyPrefix]);
            });
        }
        finally
        {
            stripe.Release();
        }
    }

    /// <summary>
    /// Replaces the connection's presence subscriptions with <paramref name="userIds"/> and sends their current state
    /// (one envelope each; <c>offline</c> when no key, <c>unknown</c> when Redis does not answer), then changes.
    /// </summary>
    public async Task SubscribeAsync(string connectionId, string userId, string[] userIds)
    {
        if (userIds is null || userIds.Length > MaxSubscriptions || userIds.Any(u => string.IsNullOrWhiteSpace(u) || u.Length > 200))
        {
            throw new HubException("invalid_request"); // userIds: 0..500 non-empty ids
        }
        // As GET /v1/users/{id}: a user is visible to themselves and to those sharing a workspace with them. Others are
        // left out, exactly like ids that do not exist: a stranger learns nothing of anyone's presence.
        var users = await VisibleAsync(userId, userIds.Distinct(StringComparer.Ordinal).ToArray());
        // Registered before the state is read: a change after the read is delivered, and the snapshot of a user is
        // skipped once a change for them was delivered (SerialDispatch keeps both in one order).
        var subscription = new Subscription([.. users]);
        lock (_subsGate)
        {
            RemoveSubscription(connectionId);
            _subscriptions[connectionId] = subscription;
            foreach (var user in users)
            {
                if (!_watchers.TryGetValue(user, out var set))
                {
                    _watchers[user] = set = new HashSet<string>(StringComparer.Ordinal);
                }
                set.Add(connectionId);
            }
        }
        var statuses = await ReadAsync(users);
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatch.Enqueue(async () =>
        {
            try
            {
                foreach (var user in users)
                {
                    bool stillWanted;
                    lock (_subsGate)
                    {
                        stillWanted = _subscriptions.TryGetValue(connectionId, out var current) && ReferenceEquals(current, subscription)
                            && !subscription.Changed.Contains(user);
                    }
                    if (stillWanted)
                    {
                        await hub.Clients.Client(connectionId).Event(Envelopes.Presence(user, statuses[user]));
                    }
                }
            }
            finally
            {
                sent.TrySetResult();
            }
        });
        // The caller's invocation completes once its snapshot is out (bounded: never hold a hub call on a stuck queue).
        await sent.Task.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task<string[]> VisibleAsync(string callerId, string[] userIds)
    {
        try
        {
            return await Commands.Workspaces.WorkspaceAccess.VisibleUsersAsync(db, callerId, userIds, CancellationToken.None);
        }
        catch (NpgsqlException e)
        {
            logger.LogWarning("Presence subscription refused, PostgreSQL does not answer: {Error}", e.Message);
            throw new HubException("unavailable");
        }
    }

    /// <summary><c>SetPresence("active"|"away")</c>: per user, across all their connections and nodes.</summary>
    public async Task SetAsync(string connectionId, string userId, string status)
    {
        if (status is not (Envelopes.Active or Envelopes.Away))
        {
            throw new HubException("invalid_request"); // status: "active" or "away"
        }
        var stripe = Stripe(userId);
        await stripe.WaitAsync();
        try
        {
            if (!local.Has(userId))
            {
                return; // the connection closed meanwhile
            }
            await TryRedisAsync("set", async db =>
            {
                await db.ScriptEvaluateAsync(SetScript,
                    [options.PresenceKey(userId), options.ConnectionsKey(userId), options.NodeKey],
                    [options.NodeId, (long)options.Ttl.TotalMilliseconds, options.PresenceChannel, userId, status]);
                _written[userId] = Stopwatch.GetTimestamp();
            });
        }
        finally
        {
            stripe.Release();
        }
    }

    /// <summary>Current presence of each user: active, away, offline, or unknown when Redis does not answer.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ReadAsync(IReadOnlyCollection<string> userIds)
    {
        var result = userIds.Distinct(StringComparer.Ordinal).ToDictionary(u => u, _ => Envelopes.Unknown, StringComparer.Ordinal);
        if (result.Count == 0)
        {
            return result;
        }
        await TryRedisAsync("read", async db =>
        {
            var users = result.Keys.ToArray();
            var values = await db.StringGetAsync([.. users.Select(u => (RedisKey)options.PresenceKey(u))]);
            for (var i = 0; i < users.Length; i++)
            {
                result[users[i]] = values[i].IsNull ? Envelopes.Offline : (string)values[i]!;
            }
        });
        return result;
    }

    /// <summary>
    /// The timer's work: renews this node's liveness key and, for users with local connections, their keys when
    /// less than <see cref="PresenceOptions.RefreshBelow"/> is left of them (by this node's record of its last write).
    /// </summary>
    public async Task RefreshAsync()
    {
        await TryRedisAsync("node heartbeat", db => db.StringSetAsync(options.NodeKey, "1", options.Ttl));
        var dueAfter = options.Ttl - options.RefreshBelow;
        var due = local.Users()
            .Where(u => !_written.TryGetValue(u, out var at) || at == 0 || Stopwatch.GetElapsedTime(at) >= dueAfter)
            .ToList();
        await Task.WhenAll(due.Select(async user =>
        {
            var stripe = Stripe(user);
            await stripe.WaitAsync();
            try
            {
                if (local.Has(user))
                {
                    await TouchAsync(user);
                }
            }
            finally
            {
                stripe.Release();
            }
        }));
        await ProbeWatchedAsync();
    }

    /// <summary>
    /// Reads the presence keys of users watched here and not connected here. Redis deletes an expired key, and emits
    /// its <c>expired</c> event, either when a command touches it or when its background cycle samples it; with many
    /// keys holding a TTL (tens of thousands of connected users) that sampling can take minutes to reach one key, so a
    /// dead node's users would stay <c>active</c> long past the TTL. Touching the watched keys every tick bounds it:
    /// offline arrives at most one refresh interval after the key expired.
    /// </summary>
    private async Task ProbeWatchedAsync()
    {
        string[] users;
        lock (_subsGate)
        {
            users = [.. _watchers.Keys];
        }
        users = [.. users.Where(u => !local.Has(u))];
        if (users.Length == 0)
        {
            return;
        }
        await TryRedisAsync("probe of watched users", async db =>
        {
            foreach (var chunk in users.Chunk(1000))
            {
                await Task.WhenAll(chunk.Select(u => db.KeyExistsAsync(options.PresenceKey(u))));
            }
        });
    }

    /// <summary>After Redis came back (maybe empty): rewrite every local user's keys at the next tick.</summary>
    public void ForgetWrites()
    {
        foreach (var user in _written.Keys)
        {
            _written[user] = 0;
        }
    }

    /// <summary>A <c>presence</c> pub/sub message <c>{userId, status}</c> from any node.</summary>
    public void OnPublished(string message)
    {
        try
        {
            using var json = JsonDocument.Parse(message);
            var userId = json.RootElement.GetProperty("userId").GetString();
            var status = json.RootElement.GetProperty("status").GetString();
            if (userId is not null && status is not null)
            {
                metrics.PresenceChanged();
                Deliver(userId, status);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            logger.LogWarning(e, "Ignoring a malformed presence message");
        }
    }

    /// <summary>A key expired in Redis: if it is a presence key, its user is offline (their nodes stopped renewing it).</summary>
    public void OnExpired(string key)
    {
        if (options.UserOfPresenceKey(key) is not { } userId)
        {
            return;
        }
        if (local.Has(userId))
        {
            // Still connected here (Redis lost the key, or this node stalled past the TTL): write it again at once.
            _written[userId] = 0;
            _ = Task.Run(RefreshAsync);
        }
        // The expired event and the presence messages come on two Redis channels, each read in order by its own loop
        // (PresenceListener), so a user who came back at once (a touch that found the key expired recreates it and
        // publishes active right behind the expired event) could have their active enqueued before this offline. Hence
        // offline is sent only if the key is still gone when the ordered queue reaches it: a key that exists again was
        // created by a script that published its status on the presence channel, delivered before or after this.
        dispatch.Enqueue(async () =>
        {
            if (!IsWatched(userId) || await ExistsAgainAsync(userId))
            {
                return;
            }
            await SendAsync(userId, Envelopes.Offline);
        });
    }

    private bool IsWatched(string userId)
    {
        lock (_subsGate)
        {
            return _watchers.TryGetValue(userId, out var set) && set.Count > 0;
        }
    }

    private async Task<bool> ExistsAgainAsync(string userId)
    {
        try
        {
            var multiplexer = await redis.GetAsync();
            return await multiplexer.GetDatabase().KeyExistsAsync(options.PresenceKey(userId));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Presence check after an expiry failed, Redis does not answer: {Error}", e.Message);
            return false; // offline, as the expiry said
        }
    }

    private void Deliver(string userId, string status) => dispatch.Enqueue(() => SendAsync(userId, status));

    private async Task SendAsync(string userId, string status)
    {
        List<string> connections;
        lock (_subsGate)
        {
            if (!_watchers.TryGetValue(userId, out var set) || set.Count == 0)
            {
                return;
            }
            connections = [.. set];
            foreach (var connection in connections)
            {
                if (_subscriptions.TryGetValue(connection, out var subscription))
                {
                    subscription.Changed.Add(userId);
                }
            }
        }
        await hub.Clients.Clients(connections).Event(Envelopes.Presence(userId, status));
    }

    private void Unsubscribe(string connectionId)
    {
        lock (_subsGate)
        {
            RemoveSubscription(connectionId);
        }
    }

    private void RemoveSubscription(string connectionId)
    {
        if (!_subscriptions.Remove(connectionId, out var old))
        {
            return;
        }
        foreach (var user in old.Users)
        {
            if (_watchers.TryGetValue(user, out var set) && set.Remove(connectionId) && set.Count == 0)
            {
                _watchers.Remove(user);
            }
        }
    }

    private Task TouchAsync(string userId) => TryRedisAsync("touch", async db =>
    {
        await db.ScriptEvaluateAsync(TouchScript,
            [options.PresenceKey(userId), options.ConnectionsKey(userId), options.NodeKey],
            [options.NodeId, (long)options.Ttl.TotalMilliseconds, options.PresenceChannel, userId]);
        _written[userId] = Stopwatch.GetTimestamp();
    });

    private async Task TryRedisAsync(string what, Func<IDatabase, Task> action)
    {
        try
        {
            var multiplexer = await redis.GetAsync();
            await action(multiplexer.GetDatabase());
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Presence {What} failed, Redis does not answer: {Error}", what, e.Message);
        }
    }

    private SemaphoreSlim Stripe(string userId) => _stripes[(StringComparer.Ordinal.GetHashCode(userId) & int.MaxValue) % _stripes.Length];

    private sealed record Subscription(HashSet<string> Users)
    {
        /// <summary>Users a change was delivered for since this subscription began (their snapshot is older).</summary>
        public HashSet<string> Changed { get; } = new(StringComparer.Ordinal);
    }
}
