using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Invites;

/// <summary><c>DELETE /v1/workspaces/{workspaceId}/invites/{inviteId}</c>: an admin revokes an invite; revoking it again changes nothing.</summary>
public static class RevokeInviteEndpoint
{
    public static InviteRevoked? Decide(WorkspaceState workspace, string inviteId, string actorId)
    {
        InviteRules.RequireAdmin(workspace, actorId, "Only workspace admins revoke invites.");
        var invite = workspace.InviteOf(inviteId) ?? throw CommandRejected.NotFound("The invite");
        return invite.Revoked ? null : new InviteRevoked(workspace.WorkspaceId, inviteId, actorId);
    }

    public static RouteGroupBuilder MapRevokeInvite(this RouteGroupBuilder group)
    {
        group.MapDelete("/workspaces/{workspaceId}/invites/{inviteId}", Handle).WithName("RevokeInvite");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(string workspaceId, string inviteId, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        if (!Ids.IsValid(inviteId))
        {
            throw CommandRejected.NotFound("The invite");
        }
        var result = await WorkspacePipeline.RunAsync(store, actor,
            async (tx, t) => await InviteWriteSide.WithInviteAsync(tx, await WorkspaceWriteSide.LoadAsync(tx, workspaceId, [actor.UserId], t), inviteId, t),
            w => w,
            w => Decide(w, inviteId, actor.UserId) is { } revoked ? [revoked] : [], ct);
        return TypedResults.Ok(new PositionResponse(result?.Position ?? await store.HeadPositionAsync(Ids.WorkspaceStream(workspaceId), ct)));
    }
}
