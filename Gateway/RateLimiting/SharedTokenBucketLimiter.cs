using System.Diagnostics;
using System.Threading.RateLimiting;

namespace EventSourcedChat.Gateway.RateLimiting;

/// <summary>
/// The limiter of one partition (a user or a client address) of a policy: its bucket is in Redis, shared by every node
/// (<see cref="RedisTokenBuckets"/>). While Redis does not answer, a bucket of the same size in this node's memory decides
/// instead, so requests are still limited, per node. The partitioned limiter of ASP.NET Core replenishes that bucket
/// with its own timer and drops this limiter once it has been idle a while.
/// </summary>
public sealed class SharedTokenBucketLimiter : ReplenishingRateLimiter
{
    private static readonly RateLimitLease Refused = new Lease(false, null);
    private static readonly RateLimitLease Granted = new Lease(true, null);

    private readonly string _key;
    private readonly TokenBucket _bucket;
    private readonly RedisTokenBuckets _redis;
    private readonly TokenBucketRateLimiter _local;
    private long _lastUsed = Stopwatch.GetTimestamp();

    public SharedTokenBucketLimiter(string key, TokenBucket bucket, RedisTokenBuckets redis)
    {
        _key = key;
        _bucket = bucket;
        _redis = redis;
        // Refilled at the shared bucket's rate: a token at a time when that takes a second or more (a per-hour limit
        // does not wait an hour for its next token), else each second's worth at once.
        var perToken = bucket.Period / bucket.Tokens;
        var second = TimeSpan.FromSeconds(1);
        _local = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = bucket.Burst,
            TokensPerPeriod = perToken >= second ? 1 : (int)Math.Ceiling(bucket.Tokens * (second / bucket.Period)),
            ReplenishmentPeriod = perToken >= second ? perToken : second,
            QueueLimit = 0,
            AutoReplenishment = false,
        });
    }

    /// <summary>Idle once its memory bucket is full and no request came for a while (one may be waiting for Redis).</summary>
    public override TimeSpan? IdleDuration => _local.IdleDuration is null ? null : Stopwatch.GetElapsedTime(Volatile.Read(ref _lastUsed));

    public override bool IsAutoReplenishing => false;

    public override TimeSpan ReplenishmentPeriod => _local.ReplenishmentPeriod;

    public override bool TryReplenish() => _local.TryReplenish();

    public override RateLimiterStatistics? GetStatistics() => _local.GetStatistics();

    /// <summary>
    /// Never decides without asking Redis: answers "not acquired" with no metadata, and the rate-limiting middleware
    /// then asks <see cref="AcquireAsyncCore"/>, which does.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => permitCount == 0 ? Granted : Refused;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount == 0)
        {
            return Granted;
        }
        Volatile.Write(ref _lastUsed, Stopwatch.GetTimestamp());
        if (await _redis.TakeAsync(_key, _bucket, permitCount, cancellationToken) is { } decision)
        {
            return decision.Allowed ? Granted : new Lease(false, decision.RetryAfter);
        }
        return await _local.AcquireAsync(permitCount, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _local.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
