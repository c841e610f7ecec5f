using System.Globalization;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Accounts;

public sealed record Login(string? Email, string? Password);

public static class LoginEndpoint
{
    public static RouteGroupBuilder MapLogin(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/login", Handle).AllowAnonymous().WithName("Login");
        return group;
    }

    private static async Task<Results<Ok<SignedIn>, ProblemHttpResult>> Handle(
        Login command, HttpContext http, ChatEventStore store, Tokens tokens, IPasswordHasher<string> hasher,
        LoginThrottle throttle, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(command.Email) || string.IsNullOrEmpty(command.Password))
        {
            throw CommandRejected.Invalid("Email and password are required.");
        }
        if (command.Email.Trim().Length > 254 || command.Password.Length > PasswordPolicy.MaxLength)
        {
            throw CommandRejected.Unauthenticated("Unknown email or wrong password.");
        }
        var account = LoginThrottle.AccountKey(command.Email);
        var address = LoginThrottle.AddressKey(http.Connection.RemoteIpAddress?.ToString());
        if (await throttle.BlockedForAsync(account, address, ct) is { } wait)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                detail: "Too many failed log-ins; try again after the Retry-After delay.",
                extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.RateLimited });
        }
        string? userId = null, passwordHash = null;
        await using (var cmd = store.DataSource.Command(
            "select user_id, password_hash from ws_users where lower(email) = lower($1)", command.Email.Trim()))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
            {
                (userId, passwordHash) = (reader.GetString(0), reader.GetString(1));
            }
        }
        if (userId is not null && hasher.VerifyHashedPassword(userId, passwordHash!, command.Password) != PasswordVerificationResult.Failed)
        {
            await throttle.SucceededAsync(account, ct);
            return TypedResults.Ok(new SignedIn(userId, await tokens.IssueAsync(userId, ct)));
        }
        await throttle.FailedAsync(account, address, ct);
        throw CommandRejected.Unauthenticated("Unknown email or wrong password.");
    }
}
