using System.Security.Claims;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// <c>POST /v1/auth/logout</c> revokes the bearer token it is called with, on every node: revoked token ids are kept in
/// PostgreSQL until the token would have expired, and every authenticated request (and hub connection) is checked
/// against them.
/// </summary>
public static class LogoutEndpoint
{
    public static RouteGroupBuilder MapLogout(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/logout", Handle).WithName("Logout");
        return group;
    }

    private static async Task<NoContent> Handle(ClaimsPrincipal user, NpgsqlDataSource db, Tokens tokens, TimeProvider time, CancellationToken ct)
    {
        if (Guid.TryParse(user.FindFirstValue(Tokens.TokenIdClaim), out var tokenId))
        {
            var now = time.GetUtcNow();
            await using var cmd = db.Command("""
                with expired as (delete from ws_revoked_tokens where expires_at < $3)
                insert into ws_revoked_tokens (token_id, expires_at) values ($1, $2) on conflict do nothing
                """, tokenId, now + tokens.Lifetime, now);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return TypedResults.NoContent();
    }

    /// <summary>Answers 401 <c>unauthenticated</c> to a request whose bearer token was revoked by a log-out.</summary>
    public static IApplicationBuilder UseTokenRevocation(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (Guid.TryParse(http.User.FindFirstValue(Tokens.TokenIdClaim), out var tokenId))
        {
            var db = http.RequestServices.GetRequiredService<NpgsqlDataSource>();
            await using var cmd = db.Command("select exists (select 1 from ws_revoked_tokens where token_id = $1)", tokenId);
            if ((bool)(await cmd.ExecuteScalarAsync(http.RequestAborted))!)
            {
                await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthenticated",
                    detail: "This token was revoked by a log-out; log in again.",
                    extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Unauthenticated }).ExecuteAsync(http);
                return;
            }
        }
        await next(http);
    });
}
