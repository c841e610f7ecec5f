using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Commands.Infrastructure;

/// <summary>Per-user limits (ASP.NET Core rate limiting); a rejected request gets 429 <c>rate_limited</c> with Retry-After.</summary>
public static class RateLimits
{
    public const string Posting = "posting";

    public static IServiceCollection AddChatRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var perSecond = configuration.GetValue("RateLimits:PostsPerSecond", 10);
        var burst = configuration.GetValue("RateLimits:PostsBurst", 30);
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(Posting, http => RateLimitPartition.GetTokenBucketLimiter(
                http.User.FindFirstValue(Actor.UserIdClaim) ?? http.Connection.RemoteIpAddress?.ToString() ?? "anonymous",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = burst,
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
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
}
