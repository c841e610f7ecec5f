using EventSourcedChat.Gateway.Hosting;
using StackExchange.Redis;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// Presence state in Redis, shared by every gateway node (key names in <see cref="PresenceOptions"/>):
/// <list type="bullet">
/// <item><c>presence:{userId}</c> = <c>active</c>|<c>away</c> with a TTL (65 s): no key is offline.</item>
/// <item><c>presence:conns:{userId}</c>: a hash with one field per node that has connections of the user (same TTL).</item>
/// <item><c>presence:node:{nodeId}</c>: the node's liveness (same TTL), renewed while the node runs.</item>
/// </list>
/// Every write is a Lua script that changes the keys and publishes on <c>presence</c> in one step, so the published
/// order is the order of the changes. Redis errors are logged and never thrown: a read then answers <c>unknown</c>.
/// </summary>
public sealed class PresenceStore(RedisConnection redis, PresenceOptions options, ILogger<PresenceStore> logger)
{
    // Renews the node and the user's entry; recreates the key as active (publishing it) only when it had expired.
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

    private long TtlMs => (long)options.Ttl.TotalMilliseconds;

    /// <summary>This node holds the user: renews their keys, and makes them active if their key had gone. True when written.</summary>
    public Task<bool> TouchAsync(string userId) => TryRedisAsync("touch", db => db.ScriptEvaluateAsync(TouchScript,
        [options.PresenceKey(userId), options.ConnectionsKey(userId), options.NodeKey],
        [options.NodeId, TtlMs, options.PresenceChannel, userId]));

    /// <summary>Sets the user's status (publishing it when it changed) and renews their keys. True when written.</summary>
    public Task<bool> SetAsync(string userId, string status) => TryRedisAsync("set", db => db.ScriptEvaluateAsync(SetScript,
        [options.PresenceKey(userId), options.ConnectionsKey(userId), options.NodeKey],
        [options.NodeId, TtlMs, options.PresenceChannel, userId, status]));

    /// <summary>
    /// This node no longer holds the user: drops its entry and those of dead nodes, and deletes the key (publishing
    /// offline) only when no live node is left holding them.
    /// </summary>
    public Task LeaveAsync(string userId) => TryRedisAsync("leave", db => db.ScriptEvaluateAsync(LeaveScript,
        [options.PresenceKey(userId), options.ConnectionsKey(userId)],
        [options.NodeId, options.PresenceChannel, userId, options.NodeKeyPrefix]));

    /// <summary>Renews this node's liveness key.</summary>
    public Task HeartbeatAsync() => TryRedisAsync("node heartbeat", db => db.StringSetAsync(options.NodeKey, "1", options.Ttl));

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
    /// Touches the presence keys of <paramref name="userIds"/> (an <c>EXISTS</c> each). Redis deletes an expired key, and
    /// emits its <c>expired</c> event, either when a command touches it or when its background cycle samples it; with
    /// many keys holding a TTL that sampling can take minutes to reach one key, so probing bounds when offline arrives.
    /// </summary>
    public Task ProbeAsync(IReadOnlyCollection<string> userIds) => TryRedisAsync("probe of watched users", async db =>
    {
        foreach (var chunk in userIds.Chunk(1000))
        {
            await Task.WhenAll(chunk.Select(u => db.KeyExistsAsync(options.PresenceKey(u))));
        }
    });

    /// <summary>Whether the user's key exists; false (offline, as an expiry said) when Redis does not answer.</summary>
    public async Task<bool> ExistsAsync(string userId)
    {
        try
        {
            var multiplexer = await redis.GetAsync();
            return await multiplexer.GetDatabase().KeyExistsAsync(options.PresenceKey(userId));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Presence check after an expiry failed, Redis does not answer: {Error}", e.Message);
            return false;
        }
    }

    private async Task<bool> TryRedisAsync(string what, Func<IDatabase, Task> action)
    {
        try
        {
            var multiplexer = await redis.GetAsync();
            await action(multiplexer.GetDatabase());
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Presence {What} failed, Redis does not answer: {Error}", what, e.Message);
            return false;
        }
    }
}
