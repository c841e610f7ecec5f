using System.Security.Claims;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// A user's sessions (bearer tokens) as the write side knows them: each token issued is recorded in
/// <c>ws_issued_tokens</c>; revoking all of a user's sessions copies their ids into <c>ws_revoked_tokens</c>, the table
/// that log-out writes and every request is checked against (<see cref="LogoutEndpoint.UseTokenRevocation"/>).
/// </summary>
public static class Sessions
{
    /// <summary>
    /// Revokes every recorded token of user <c>$1</c> except the one whose id is <c>$2</c> (null: all of them). One
    /// statement, so a password change runs it in the append's transaction.
    /// </summary>
    public const string RevokeAllSql = """
        insert into ws_revoked_tokens (token_id, expires_at)
        select token_id, expires_at from ws_issued_tokens where user_id = $1 and token_id::text is distinct from $2::text
        on conflict do nothing
        """;

    /// <summary>The token id of the caller's own session, or null.</summary>
    public static string? CurrentId(ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(Tokens.TokenIdClaim), out var id) ? id.ToString() : null;

    /// <summary>
    /// Records a token about to be issued, unless the user is deactivated (then 403 <c>account_deactivated</c>). The user's
    /// row is read <c>for share</c>: a deactivation (which updates it, then revokes every recorded token) waits for this
    /// statement's transaction, or this one waits for it and sees the flag, so no token escapes a deactivation.
    /// </summary>
    public static async Task RecordIssuedAsync(NpgsqlDataSource db, Guid tokenId, string userId, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            with expired as (delete from ws_issued_tokens where user_id = $2 and expires_at < $4),
                 account as (select deactivated from ws_users where user_id = $2 for share)
            insert into ws_issued_tokens (token_id, user_id, expires_at)
            select $1, $2, $3 where not exists (select 1 from account where deactivated)
            """, tokenId, userId, expiresAt, now);
        if (await cmd.ExecuteNonQueryAsync(ct) == 0)
        {
            throw new CommandRejected(StatusCodes.Status403Forbidden, ErrorCodes.AccountDeactivated,
                "This account is deactivated: an instance administrator can reactivate it.");
        }
    }

    /// <summary>Revokes every session of the user (log out everywhere).</summary>
    public static async Task RevokeAllAsync(NpgsqlDataSource db, string userId, CancellationToken ct)
    {
        await using var cmd = db.Command(RevokeAllSql, userId, null);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
