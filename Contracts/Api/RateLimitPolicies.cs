namespace EventSourcedChat.Contracts.Api;

/// <summary>
/// Names of the rate-limiting policies endpoints require (<c>.RequireRateLimiting(...)</c>); the Gateway host defines
/// them (limits, partitions, the Redis-shared buckets). A rejected request gets 429 <c>rate_limited</c> with Retry-After.
/// </summary>
public static class RateLimitPolicies
{
    /// <summary>Posting, editing, deleting and reacting, per user.</summary>
    public const string Posting = "posting";

    /// <summary>Registering an account, per client address.</summary>
    public const string Registering = "registering";

    /// <summary>Creating a workspace, per user.</summary>
    public const string CreatingWorkspaces = "workspaces";

    /// <summary>Creating a channel, per user.</summary>
    public const string CreatingChannels = "channels";

    /// <summary>Reading a channel's audit log (events, verify, as-of), per user.</summary>
    public const string AuditReads = "audit-reads";
}
