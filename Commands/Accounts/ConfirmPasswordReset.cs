using System.Security.Cryptography;
using System.Text;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Accounts;

public sealed record ConfirmPasswordReset(string? Token, string? NewPassword);

/// <summary>
/// <c>POST /v1/auth/password-reset/confirm</c>: the mailed link's token and a new password. The link works once and
/// until it expires; every session of the user is revoked. A token that is not (or no longer) a live link, whatever
/// the reason, is 410 <c>reset_expired</c>.
/// </summary>
public static class ConfirmPasswordResetEndpoint
{
    public static PasswordChanged Decide(UserState user, string? secret, string? newPassword, DateTimeOffset now, Func<string, string> hash)
    {
        if (!user.Exists || secret is null || user.Reset is not { } reset || reset.ExpiresAt <= now
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(reset.TokenHash), Encoding.ASCII.GetBytes(PasswordResetEndpoint.HashOf(secret))))
        {
            throw Expired();
        }
        if (PasswordPolicy.Problem(newPassword, user.Email) is { } problem)
        {
            throw CommandRejected.Invalid(problem);
        }
        return new PasswordChanged(user.UserId, hash(newPassword!), "reset", null);
    }

    private static CommandRejected Expired() =>
        new(StatusCodes.Status410Gone, ErrorCodes.ResetExpired, "This reset link has expired or was used; ask for a new one.");

    public static RouteGroupBuilder MapConfirmPasswordReset(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/password-reset/confirm", Handle).AllowAnonymous().WithName("ConfirmPasswordReset")
            .ProducesProblem(StatusCodes.Status410Gone);
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        ConfirmPasswordReset command, HttpContext http, ChatEventStore store, IPasswordHasher<string> hasher, TimeProvider time,
        RevokedTokens revoked, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(command.Token) || string.IsNullOrEmpty(command.NewPassword))
        {
            throw CommandRejected.Invalid("A token and a new password are required.");
        }
        var dot = command.Token.IndexOf('.', StringComparison.Ordinal);
        var userId = dot > 0 ? command.Token[..dot] : "";
        if (!Ids.IsValid(userId) || command.Token.Length > 200)
        {
            throw Expired();
        }
        var secret = command.Token[(dot + 1)..];
        var result = await UserPipeline.RunAsync(store, userId, new Actor(userId, http.TraceIdentifier),
            (tx, t) => UserWriteSide.LoadAccountAsync(store.Log, tx, userId, t), u => u,
            user => [Decide(user, secret, command.NewPassword, time.GetUtcNow(), password => hasher.HashPassword(userId, password))], ct);
        await revoked.CatchUpAsync(ct); // every session, revoked in the command's transaction, is refused from now on
        return TypedResults.Ok(new PositionResponse(result!.Position));
    }
}
