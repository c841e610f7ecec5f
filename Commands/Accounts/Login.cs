using EventSourcedChat.Commands.Infrastructure;
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

    private static async Task<Ok<SignedIn>> Handle(
        Login command, ChatEventStore store, Tokens tokens, IPasswordHasher<string> hasher, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(command.Email) || string.IsNullOrEmpty(command.Password))
        {
            throw CommandRejected.Invalid("Email and password are required.");
        }
        await using var cmd = store.DataSource.Command(
            "select user_id, password_hash from ws_users where lower(email) = lower($1)", command.Email.Trim());
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (await reader.ReadAsync(ct))
        {
            var userId = reader.GetString(0);
            if (hasher.VerifyHashedPassword(userId, reader.GetString(1), command.Password) != PasswordVerificationResult.Failed)
            {
                return TypedResults.Ok(new SignedIn(userId, tokens.Issue(userId)));
            }
        }
        throw CommandRejected.Unauthenticated("Unknown email or wrong password.");
    }
}
