using System.Text.RegularExpressions;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

public sealed record Register(string? Email, string? Password, string? DisplayName);

public sealed record SignedIn(string UserId, string Token);

public static partial class RegisterEndpoint
{
    /// <summary>
    /// A valid email address as browsers check <c>&lt;input type="email"&gt;</c> (the WHATWG definition), so the
    /// web client's own form accepts at log-in whatever registration accepted.
    /// </summary>
    [GeneratedRegex(@"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidEmail();

    public const int MaxDisplayNameLength = 80;

    /// <summary>Whether a trimmed, lower-case address is one registration accepts (an invite by email names such an address).</summary>
    public static bool IsValidEmail(string email) => email.Length <= 254 && ValidEmail().IsMatch(email);

    public static UserRegistered Decide(string userId, Register command, Func<string, string> hash)
    {
        // Stored in lower case: addresses are compared without case (log-in, uniqueness), and shown as stored.
        var email = command.Email?.Trim().ToLowerInvariant();
        if (email is null || email.Length > 254 || !ValidEmail().IsMatch(email))
        {
            throw CommandRejected.Invalid("A valid email address is required.");
        }
        if (PasswordPolicy.Problem(command.Password, email) is { } problem)
        {
            throw CommandRejected.Invalid(problem);
        }
        var displayName = command.DisplayName?.Trim();
        if (string.IsNullOrEmpty(displayName) || displayName.Length > MaxDisplayNameLength || displayName.Any(char.IsControl))
        {
            throw CommandRejected.Invalid($"A display name has 1 to {MaxDisplayNameLength} printable characters.");
        }
        return new UserRegistered(userId, email, displayName, hash(command.Password!));
    }

    public static RouteGroupBuilder MapRegister(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/register", Handle).AllowAnonymous().WithName("Register")
            .RequireRateLimiting(RateLimitPolicies.Registering).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Created<SignedIn>> Handle(
        Register command, HttpContext http, ChatEventStore store, Tokens tokens, IPasswordHasher<string> hasher, CancellationToken ct)
    {
        var userId = Ids.New();
        var registered = Decide(userId, command, password => hasher.HashPassword(userId, password));
        try
        {
            await UserPipeline.RunAsync(store, userId, new Actor(userId, http.TraceIdentifier), StreamPipeline.Nothing(UserState.Initial),
                u => u, _ => [registered], ct);
        }
        catch (PostgresException e) when (e.IsUniqueViolation("ws_users_email"))
        {
            throw CommandRejected.Conflict(ErrorCodes.NameTaken, "An account with this email already exists.");
        }
        return TypedResults.Created($"/v1/users/{userId}", new SignedIn(userId, await tokens.IssueAsync(userId, ct)));
    }
}
