using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.RateLimiting;

namespace EventSourcedChat.Gateway.RateLimiting;

/// <summary>
/// The policies of <see cref="RateLimitPolicies"/> on ASP.NET Core rate limiting: each is a token bucket per partition,
/// kept in Redis and so shared by every node (<see cref="SharedTokenBucketLimiter"/>). Registering is limited per client
/// address, everything else per user. A rejected request gets 429 <c>rate_limited</c> (problem+json) with Retry-After.
/// </summary>
public static class ChatRateLimits
{
    public static IServiceCollection AddChatRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = RateLimitSettings.From(configuration);
        services.AddSingleton(settings);
        services.AddSingleton<RedisTokenBuckets>();
        services.AddRateLimiter(options =>
        {
            foreach (var (policy, bucket) in settings.Buckets)
            {
                var byAddress = policy == RateLimitPolicies.Registering;
                options.AddPolicy(policy, http =>
                {
                    var partition = byAddress ? Address(http) : User(http) ?? Address(http);
                    return RateLimitPartition.Get(partition, key => new SharedTokenBucketLimiter(
                        settings.Key(policy, key), bucket, http.RequestServices.GetRequiredService<RedisTokenBuckets>()));
                });
            }
            options.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Results.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    detail: "Slow down; try again after the Retry-After delay.",
                    extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.RateLimited }).ExecuteAsync(http);
            };
        });
        return services;
    }

    private static string? User(HttpContext http) => http.User.FindFirstValue(ChatClaims.UserId) is { } userId ? "user:" + userId : null;

    /// <summary>The connection's address: a proxy in front must be trusted to forward it (not configured here).</summary>
    private static string Address(HttpContext http) => "address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
