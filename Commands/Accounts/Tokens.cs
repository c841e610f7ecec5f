using System.Security.Claims;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.Extensions.Options;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>Issues the bearer tokens that ASP.NET Core's bearer-token authentication validates.</summary>
public sealed class Tokens(IOptionsMonitor<BearerTokenOptions> options, TimeProvider time)
{
    /// <summary>Each token's own id, which log-out revokes.</summary>
    public const string TokenIdClaim = "jti";

    public TimeSpan Lifetime => options.Get(BearerTokenDefaults.AuthenticationScheme).BearerTokenExpiration;

    public string Issue(string userId)
    {
        var bearer = options.Get(BearerTokenDefaults.AuthenticationScheme);
        var identity = new ClaimsIdentity(
            [new Claim(ChatClaims.UserId, userId), new Claim(TokenIdClaim, Guid.NewGuid().ToString())],
            BearerTokenDefaults.AuthenticationScheme);
        var now = time.GetUtcNow();
        var properties = new AuthenticationProperties { IssuedUtc = now, ExpiresUtc = now + bearer.BearerTokenExpiration };
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity), properties, BearerTokenDefaults.AuthenticationScheme);
        return bearer.BearerTokenProtector.Protect(ticket);
    }
}
