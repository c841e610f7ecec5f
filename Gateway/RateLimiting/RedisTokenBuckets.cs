using System.Diagnostics;
using EventSourcedChat.Gateway.Hosting;
using StackExchange.Redis;

namespace EventSourcedChat.Gateway.RateLimiting;

/// <summary>Whether a request may go on, and if not, how long until a token is there.</summary>
public readonly record struct BucketDecision(bool Allowed, TimeSpan RetryAfter);

/// <summary>
/// Token buckets in Redis, shared by every node: one hash per bucket (<c>tokens</c>, <c>at</c>), read, refilled and
/// taken from in one Lua script, so concurrent requests on any node never spend a token twice. Time is Redis's own clock
/// (<c>TIME</c>), so the nodes' clocks do not matter. The key expires once the bucket would be full again: a full bucket
/// is no key, and nothing accumulates. When Redis does not answer (an error, or no answer within <see cref="Timeout"/>)
/// the caller is told <c>null</c> and limits with its node's memory instead; Redis is then left alone for
/// <see cref="FallbackFor"/>, so an outage costs each request nothing, and a warning is logged once per such period.
/// </summary>
public sealed class RedisTokenBuckets(RedisConnection redis, ILogger<RedisTokenBuckets> logger)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan FallbackFor = TimeSpan.FromSeconds(5);

    // KEYS[1] the bucket; ARGV: burst, tokens per period, period (ms), tokens to take.
    // Answers {1, 0} when taken, else {0, ms until enough tokens are there}.
    private const string TakeScript = """
        local burst = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2]) / tonumber(ARGV[3])
        local take = tonumber(ARGV[4])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(state[1])
        local at = tonumber(state[2])
        if tokens == nil or at == nil then
          tokens = burst
        else
          tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
        end
        local allowed = 0
        local wait = 0
        if tokens >= take then
          tokens = tokens - take
          allowed = 1
        else
          wait = math.ceil((take - tokens) / rate)
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
        redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
        return {allowed, wait}
        """;

    private long _skipUntil;

    /// <summary>Takes <paramref name="count"/> tokens from the bucket at <paramref name="key"/>; null when Redis does not answer.</summary>
    public async Task<BucketDecision?> TakeAsync(string key, TokenBucket bucket, int count, CancellationToken ct)
    {
        if (Stopwatch.GetTimestamp() < Volatile.Read(ref _skipUntil))
        {
            return null;
        }
        try
        {
            var multiplexer = await redis.GetAsync().WaitAsync(Timeout, ct);
            var result = (RedisResult[]?)await multiplexer.GetDatabase().ScriptEvaluateAsync(TakeScript, [key],
                [bucket.Burst, bucket.Tokens, (long)bucket.Period.TotalMilliseconds, count]).WaitAsync(Timeout, ct);
            return result is [var allowed, var wait]
                ? new BucketDecision((long)allowed == 1, TimeSpan.FromMilliseconds((long)wait))
                : throw new InvalidOperationException("The token bucket script answered an unexpected shape.");
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Volatile.Write(ref _skipUntil, Stopwatch.GetTimestamp() + (long)(FallbackFor.TotalSeconds * Stopwatch.Frequency));
            logger.LogWarning("Rate limits are kept in this node's memory for {Seconds} s, Redis does not answer: {Error}",
                FallbackFor.TotalSeconds, e.Message);
            return null;
        }
    }
}
