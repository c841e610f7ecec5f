using System.Security.Claims;
using EventSourcedChat.Commands.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// <c>POST /v1/auth/logout</c> revokes the bearer token it is called with, on every node: revoked token ids are kept in
/// PostgreSQL until the token would have expired and in memory on every node (<see cref="RevokedTokens"/>, kept current
/// by a notification), and every authenticated request (and hub connection) is checked against them.
/// </summary>
public static class LogoutEndpoint
{
    public static RouteGroupBuilder MapLogout(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/logout", Handle).WithName("Logout");
        return group;
    }

    private static async Task<NoContent> Handle(ClaimsPrincipal user, RevokedTokens revoked, Tokens tokens, TimeProvider time, CancellationToken ct)
    {
        if (Guid.TryParse(user.FindFirstValue(Tokens.TokenIdClaim), out var tokenId))
        {
            await revoked.RevokeAsync(tokenId, time.GetUtcNow() + tokens.Lifetime, ct);
        }
        return TypedResults.NoContent();
    }

    /// <summary>
    /// A request whose bearer token was revoked by a log-out is treated as one without a token: endpoints that need a
    /// caller answer 401 <c>unauthenticated</c>, open ones (register, log-in, health) still work, as they do for a
    /// client sending an expired or unreadable token. Answered from memory (<see cref="RevokedTokens"/>).
    /// </summary>
    public static IApplicationBuilder UseTokenRevocation(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (Guid.TryParse(http.User.FindFirstValue(Tokens.TokenIdClaim), out var tokenId)
            && await http.RequestServices.GetRequiredService<RevokedTokens>().IsRevokedAsync(tokenId, http.RequestAborted))
        {
            http.User = new ClaimsPrincipal(new ClaimsIdentity());
        }
        await next(http);
    });
}
