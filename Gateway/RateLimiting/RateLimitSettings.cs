using System.Globalization;
using EventSourcedChat.Contracts.Api;

namespace EventSourcedChat.Gateway.RateLimiting;

/// <summary>
/// One token bucket: it holds up to <see cref="Burst"/> tokens, gains <see cref="Tokens"/> every <see cref="Period"/>
/// (continuously, a fraction at a time), and each request takes one.
/// </summary>
public sealed record TokenBucket(int Burst, int Tokens, TimeSpan Period)
{
    /// <summary>How long until a spent bucket is full again: its Redis key may expire then (a full bucket is no key).</summary>
    public TimeSpan TimeToFill => Period * Burst / Tokens;
}

/// <summary>
/// The limits (<c>RateLimits:*</c>), read once at start-up. Defaults are far above what a person does in a Slack-like
/// team: only scripts and abuse reach them. Buckets live in Redis under <see cref="Prefix"/> (<c>RateLimits:Prefix</c>,
/// default <c>{Redis:Prefix}ratelimit:</c>), shared by every node of a deployment.
/// </summary>
public sealed class RateLimitSettings
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    public required string Prefix { get; init; }

    public required IReadOnlyDictionary<string, TokenBucket> Buckets { get; init; }

    /// <summary>The Redis key of one partition (a user or a client address) of a policy.</summary>
    public string Key(string policy, string partition) => $"{Prefix}{policy}:{partition}";

    public static RateLimitSettings From(IConfiguration configuration) => new()
    {
        Prefix = configuration["RateLimits:Prefix"] ?? (configuration["Redis:Prefix"] ?? "esc:") + "ratelimit:",
        Buckets = new Dictionary<string, TokenBucket>(StringComparer.Ordinal)
        {
            [RateLimitPolicies.Posting] = Read(configuration, "Posts", "PerSecond", Second, perPeriod: 10, burst: 30),
            [RateLimitPolicies.Registering] = Read(configuration, "Registrations", "PerHour", Hour, perPeriod: 50, burst: 50),
            [RateLimitPolicies.CreatingWorkspaces] = Read(configuration, "Workspaces", "PerHour", Hour, perPeriod: 10, burst: 10),
            [RateLimitPolicies.CreatingChannels] = Read(configuration, "Channels", "PerHour", Hour, perPeriod: 100, burst: 50),
            [RateLimitPolicies.AuditReads] = Read(configuration, "AuditReads", "PerHour", Hour, perPeriod: 600, burst: 60),
        },
    };

    /// <summary><c>RateLimits:{name}{per}</c> and <c>RateLimits:{name}Burst</c>, both whole numbers of at least 1.</summary>
    private static TokenBucket Read(IConfiguration configuration, string name, string per, TimeSpan period, int perPeriod, int burst)
    {
        var tokens = Positive(configuration, $"RateLimits:{name}{per}", perPeriod);
        return new TokenBucket(Positive(configuration, $"RateLimits:{name}Burst", burst), tokens, period);
    }

    private static int Positive(IConfiguration configuration, string key, int fallback)
    {
        var raw = configuration[key];
        if (raw is null)
        {
            return fallback;
        }
        return int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 1
            ? value
            : throw new InvalidOperationException($"{key} must be a whole number of at least 1, not '{raw}'.");
    }
}
