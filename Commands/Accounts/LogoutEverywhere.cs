using EventSourcedChat.Commands.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// <c>POST /v1/auth/logout-everywhere</c>: revokes every session of the caller, the calling one included (401 on every
/// node afterwards, REST and hub), as log-out does for one token. Like log-out it appends no event: sessions are not
/// part of the user's stream.
/// </summary>
public static class LogoutEverywhereEndpoint
{
    public static RouteGroupBuilder MapLogoutEverywhere(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/logout-everywhere", Handle).WithName("LogoutEverywhere");
        return group;
    }

    private static async Task<NoContent> Handle(HttpContext http, NpgsqlDataSource db, RevokedTokens revoked, CancellationToken ct)
    {
        var actor = Actor.From(http);
        await Sessions.RevokeAllAsync(db, actor.UserId, ct);
        await revoked.CatchUpAsync(ct);
        return TypedResults.NoContent();
    }
}
