using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// <c>POST /v1/admin/users/{id}/deactivate</c> and <c>.../reactivate</c>, for instance administrators
/// (<see cref="InstanceAdmins"/>): an event on the user's stream. A deactivation revokes every session of the user in
/// its transaction (<see cref="UserWriteSide"/>) and answers once this node's revoked-token set has caught up; the push
/// worker's <c>user.deactivated</c> makes every gateway close the user's connections; signing in is refused while it
/// lasts (<see cref="Sessions.RecordIssuedAsync"/>). What the user wrote stays.
/// </summary>
public static class UserActivationEndpoints
{
    /// <summary>The change, or nothing when the account already stands so (idempotent).</summary>
    public static IReadOnlyList<object> Decide(UserState user, bool deactivate, string actorId)
    {
        if (!user.Exists)
        {
            throw CommandRejected.NotFound("The user");
        }
        if (deactivate && user.UserId == actorId)
        {
            throw CommandRejected.Invalid("An instance administrator cannot deactivate their own account.");
        }
        if (user.Deactivated == deactivate)
        {
            return [];
        }
        return deactivate ? [new UserDeactivated(user.UserId, actorId)] : [new UserReactivated(user.UserId, actorId)];
    }

    public static RouteGroupBuilder MapUserActivation(this RouteGroupBuilder group)
    {
        group.MapPost("/admin/users/{userId}/deactivate", (string userId, HttpContext http, ChatEventStore store, IConfiguration config,
                RevokedTokens revoked, CancellationToken ct) => Handle(userId, true, http, store, config, revoked, ct))
            .WithName("DeactivateUser").ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapPost("/admin/users/{userId}/reactivate", (string userId, HttpContext http, ChatEventStore store, IConfiguration config,
                RevokedTokens revoked, CancellationToken ct) => Handle(userId, false, http, store, config, revoked, ct))
            .WithName("ReactivateUser").ProducesProblem(StatusCodes.Status403Forbidden);
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string userId, bool deactivate, HttpContext http, ChatEventStore store, IConfiguration config, RevokedTokens revoked, CancellationToken ct)
    {
        var actor = Actor.From(http);
        if (!InstanceAdmins.Contains(config[InstanceAdmins.Setting], actor.UserId))
        {
            throw CommandRejected.Forbidden("Instance administrators only.");
        }
        var target = userId.Trim();
        if (!Ids.IsValid(target))
        {
            throw CommandRejected.NotFound("The user");
        }
        var result = await UserPipeline.RunAsync(store, target, actor,
            (tx, token) => UserWriteSide.LoadAccountAsync(store.Log, tx, target, token), u => u,
            user => Decide(user, deactivate, actor.UserId), ct);
        if (result is not null && deactivate)
        {
            await revoked.CatchUpAsync(ct); // its sessions, revoked in the command's transaction, are refused from now on
        }
        return TypedResults.Ok(new PositionResponse(result?.Position ?? await store.HeadPositionAsync(Ids.UserStream(target), ct)));
    }
}
