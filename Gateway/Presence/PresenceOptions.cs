namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// Presence, typing and gateway-registry settings. Every Redis key and pub/sub channel starts with <see cref="Prefix"/>
/// (<c>Redis:Prefix</c>, default <c>esc:</c>) so several deployments or test runs can share one Redis.
/// </summary>
public sealed class PresenceOptions
{
    public string Prefix { get; init; } = "esc:";

    /// <summary>Lifetime of <c>presence:{userId}</c> (<c>Presence:TtlSeconds</c>, default 65): a dead node's users go offline within it.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(65);

    /// <summary>A key is rewritten only when less than this is left of it (<c>Presence:RefreshBelowSeconds</c>, default 30 of 65).</summary>
    public TimeSpan RefreshBelow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the node looks for keys near expiry (<c>Presence:RefreshIntervalSeconds</c>, default 15 of 65).</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Lifetime of a gateway's registration <c>gateway:{nodeId}</c> (<c>Gateway:RegistrationTtlSeconds</c>, default 15).</summary>
    public TimeSpan RegistrationTtl { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a gateway renews its registration (<c>Gateway:HeartbeatSeconds</c>, default 5).</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The node's public base URL (<c>Gateway:PublicUrl</c>); when unset, the first server address.</summary>
    public string? PublicUrl { get; init; }

    /// <summary>This process's id in Redis: one per start, so a restarted node never inherits a dead one's entries.</summary>
    public string NodeId { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    public string PresenceKey(string userId) => $"{Prefix}presence:{userId}";

    public string ConnectionsKey(string userId) => $"{Prefix}presence:conns:{userId}";

    public string NodeKeyPrefix => $"{Prefix}presence:node:";

    public string NodeKey => NodeKeyPrefix + NodeId;

    public string PresenceChannel => $"{Prefix}presence";

    public string TypingChannel => $"{Prefix}typing";

    public string TypingThrottleKey(string channelId, string userId) => $"{Prefix}typing:{channelId}:{userId}";

    public string GatewaysKey => $"{Prefix}gateways";

    public string GatewayKey(string nodeId) => $"{Prefix}gateway:{nodeId}";

    /// <summary>The user whose presence key this is, or null for any other key (connection hashes, node keys, other prefixes).</summary>
    public string? UserOfPresenceKey(string key)
    {
        var head = $"{Prefix}presence:";
        if (!key.StartsWith(head, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = key[head.Length..];
        return rest.Length == 0 || rest.StartsWith("conns:", StringComparison.Ordinal) || rest.StartsWith("node:", StringComparison.Ordinal)
            ? null
            : rest;
    }

    public static PresenceOptions From(IConfiguration configuration)
    {
        var ttl = Seconds(configuration, "Presence:TtlSeconds") ?? TimeSpan.FromSeconds(65);
        // Defaults keep the 65/30/15 proportions for any TTL, so a test's 2 s TTL refreshes in time too.
        var refreshBelow = Seconds(configuration, "Presence:RefreshBelowSeconds") ?? ttl * (30.0 / 65);
        var interval = Seconds(configuration, "Presence:RefreshIntervalSeconds") ?? ttl * (15.0 / 65);
        var registrationTtl = Seconds(configuration, "Gateway:RegistrationTtlSeconds") ?? TimeSpan.FromSeconds(15);
        var heartbeat = Seconds(configuration, "Gateway:HeartbeatSeconds") ?? registrationTtl / 3;
        if (refreshBelow >= ttl || interval >= refreshBelow)
        {
            throw new InvalidOperationException("Presence: need RefreshIntervalSeconds < RefreshBelowSeconds < TtlSeconds.");
        }
        if (heartbeat >= registrationTtl)
        {
            throw new InvalidOperationException("Gateway: need HeartbeatSeconds < RegistrationTtlSeconds.");
        }
        return new PresenceOptions
        {
            Prefix = configuration["Redis:Prefix"] ?? "esc:",
            Ttl = ttl,
            RefreshBelow = refreshBelow,
            RefreshInterval = interval,
            RegistrationTtl = registrationTtl,
            Heartbeat = heartbeat,
            PublicUrl = configuration["Gateway:PublicUrl"],
        };
    }

    private static TimeSpan? Seconds(IConfiguration configuration, string key) =>
        double.TryParse(configuration[key], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : null;
}
