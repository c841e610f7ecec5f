using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Invites;

public sealed record InviteAcceptedResponse(string WorkspaceId, long Position);

/// <summary>
/// <c>POST /v1/invites/{code}/accept</c>: the signed-in caller (just registered, or signed in) joins the invite's
/// workspace as a member. A code whose secret is not the invite's is not found (404), as one that does not exist; a
/// revoked, expired or used-up invite is 410 with its own code; an email invite accepted by another address is 403
/// <c>invite_email_mismatch</c>; a member already in the workspace gets 409 <c>already_member</c> and uses nothing.
/// </summary>
public static class AcceptInviteEndpoint
{
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, string inviteId, string secret, string actorId, string actorEmail, DateTimeOffset now)
    {
        if (workspace.InviteOf(inviteId) is not { } invite || !InviteCodes.Matches(invite.CodeHash, secret))
        {
            throw CommandRejected.NotFound("The invite");
        }
        if (invite.Revoked)
        {
            throw Gone(ErrorCodes.InviteRevoked, "This invite was revoked; ask an admin of the workspace for a new one.");
        }
        if (invite.ExpiresAt <= now)
        {
            throw Gone(ErrorCodes.InviteExpired, "This invite has expired; ask an admin of the workspace for a new one.");
        }
        if (invite.UsedUp)
        {
            throw Gone(ErrorCodes.InviteUsedUp, "This invite has been used as many times as it allows.");
        }
        if (invite.Email is { } email && !string.Equals(email, actorEmail, StringComparison.OrdinalIgnoreCase))
        {
            throw new CommandRejected(StatusCodes.Status403Forbidden, ErrorCodes.InviteEmailMismatch,
                "This invite was sent to another email address: sign in with that address.");
        }
        if (workspace.RoleOf(actorId) is not null)
        {
            throw CommandRejected.Conflict(ErrorCodes.AlreadyMember, "You are already a member of this workspace.");
        }
        return [new InviteAccepted(workspace.WorkspaceId, inviteId, actorId), new WorkspaceMemberAdded(workspace.WorkspaceId, actorId, "member", invite.CreatedBy)];
    }

    private static CommandRejected Gone(string code, string detail) => new(StatusCodes.Status410Gone, code, detail);

    public static RouteGroupBuilder MapAcceptInvite(this RouteGroupBuilder group)
    {
        group.MapPost("/invites/{code}/accept", Handle).WithName("AcceptInvite").ProducesProblem(StatusCodes.Status410Gone);
        return group;
    }

    private static async Task<Ok<InviteAcceptedResponse>> Handle(string code, HttpContext http, ChatEventStore store, TimeProvider time, CancellationToken ct)
    {
        var actor = Actor.From(http);
        if (!InviteCodes.TryParse(code, out var inviteId, out var secret)
            || await InviteWriteSide.WorkspaceOfAsync(store.DataSource, inviteId, ct) is not { } workspaceId)
        {
            throw CommandRejected.NotFound("The invite");
        }
        var result = await WorkspacePipeline.RunAsync(store, actor,
            async (tx, t) => (
                Workspace: await InviteWriteSide.WithInviteAsync(tx, await WorkspaceWriteSide.LoadAsync(tx, workspaceId, [actor.UserId], t), inviteId, t),
                Email: await tx.ScalarAsync<string>("select email from ws_users where user_id = $1", t, actor.UserId) ?? ""),
            loaded => loaded.Workspace,
            loaded => Decide(loaded.Workspace, inviteId, secret, actor.UserId, loaded.Email, time.GetUtcNow()), ct);
        return TypedResults.Ok(new InviteAcceptedResponse(workspaceId, result!.Position));
    }
}
