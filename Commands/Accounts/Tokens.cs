using System.Security.Claims;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>Issues the bearer tokens that ASP.NET Core's bearer-token authentication validates.</summary>
public sealed class Tokens(IOptionsMonitor<BearerTokenOptions> options, TimeProvider time, NpgsqlDataSource db)
{
    /// <summary>Each token's own id, which log-out revokes.</summary>
    public const string TokenIdClaim = ChatClaims.TokenId;

    public TimeSpan Lifetime => options.Get(BearerTokenDefaults.AuthenticationScheme).BearerTokenExpiration;

    /// <summary>
    /// A token for a session of the user, recorded in <c>ws_issued_tokens</c> so that "log out everywhere", a password
    /// change and a reset can revoke it (<see cref="Sessions"/>).
    /// </summary>
    public async Task<string> IssueAsync(string userId, CancellationToken ct)
    {
        var tokenId = Guid.NewGuid();
        var now = time.GetUtcNow();
        await Sessions.RecordIssuedAsync(db, tokenId, userId, now + Lifetime, now, ct);
        return Issue(userId, tokenId, now);
    }

    /// <summary>A token that is not recorded (benchmarks' users): only its own log-out revokes it.</summary>
    public string Issue(string userId) => Issue(userId, Guid.NewGuid(), time.GetUtcNow());

    private string Issue(string userId, Guid tokenId, DateTimeOffset now)
    {
        var bearer = options.Get(BearerTokenDefaults.AuthenticationScheme);
        var identity = new ClaimsIdentity(
            [new Claim(ChatClaims.UserId, userId), new Claim(TokenIdClaim, tokenId.ToString())],
            BearerTokenDefaults.AuthenticationScheme);
        var properties = new AuthenticationProperties { IssuedUtc = now, ExpiresUtc = now + bearer.BearerTokenExpiration };
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity), properties, BearerTokenDefaults.AuthenticationScheme);
        return bearer.BearerTokenProtector.Protect(ticket);
    }
}
