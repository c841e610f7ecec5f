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

public sealed record ChangePassword(string? CurrentPassword, string? NewPassword);

/// <summary>
/// <c>POST /v1/auth/password</c>: the signed-in user replaces their password, giving the current one; every other
/// session of theirs is revoked in the same transaction, the one that asked goes on.
/// </summary>
public static class ChangePasswordEndpoint
{
    public static PasswordChanged Decide(
        UserState user, ChangePassword command, Func<string, bool> isCurrent, Func<string, string> hash, string? keptSessionId)
    {
        if (!user.Exists)
        {
            throw CommandRejected.Unauthenticated("A bearer token is required.");
        }
        if (string.IsNullOrEmpty(command.CurrentPassword) || command.CurrentPassword.Length > PasswordPolicy.MaxLength
            || !isCurrent(command.CurrentPassword))
        {
            throw new CommandRejected(StatusCodes.Status403Forbidden, ErrorCodes.WrongPassword, "The current password is wrong.");
        }
        if (PasswordPolicy.Problem(command.NewPassword, user.Email) is { } problem)
        {
            throw CommandRejected.Invalid(problem);
        }
        return new PasswordChanged(user.UserId, hash(command.NewPassword!), "change", keptSessionId);
    }

    public static RouteGroupBuilder MapChangePassword(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/password", Handle).WithName("ChangePassword").ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        ChangePassword command, HttpContext http, ChatEventStore store, IPasswordHasher<string> hasher, LoginThrottle throttle,
        RevokedTokens revoked, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var account = LoginThrottle.AccountKey(actor.UserId);
        var address = LoginThrottle.AddressKey(http.Connection.RemoteIpAddress?.ToString());
        // Guessing the current password with a stolen token is slowed like guessing it at log-in.
        if (await throttle.BlockedForAsync(account, address, ct) is not null)
        {
            throw new CommandRejected(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited, "Too many wrong passwords; try again later.");
        }
        try
        {
            var result = await UserPipeline.RunAsync(store, actor.UserId, actor,
                (tx, token) => UserWriteSide.LoadAccountAsync(store.Log, tx, actor.UserId, token), u => u,
                user => [Decide(user, command,
                    current => hasher.VerifyHashedPassword(user.UserId, user.PasswordHash, current) != PasswordVerificationResult.Failed,
                    password => hasher.HashPassword(user.UserId, password), Sessions.CurrentId(http.User))], ct);
            await revoked.CatchUpAsync(ct); // the other sessions, revoked in the command's transaction, are refused from now on
            return TypedResults.Ok(new PositionResponse(result!.Position));
        }
        catch (CommandRejected e) when (e.Code == ErrorCodes.WrongPassword)
        {
            await throttle.FailedAsync(account, address, ct);
            throw;
        }
    }
}
