using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Workspaces;

public sealed record AddWorkspaceMember(string? UserId, string? Role);

public sealed record PositionResponse(long Position);

public static class WorkspaceMembersEndpoints
{
    /// <summary>
    /// An admin adds a registered user, or changes a member's role. The same role again changes nothing. The last admin
    /// keeps the role (409 <c>last_admin</c>), as when removing members: a workspace always has one.
    /// </summary>
    /// <param name="adminCount">How many admins the workspace has (read under the workspace row's lock).</param>
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, bool userExists, int adminCount, AddWorkspaceMember command, string actorId)
    {
        var actorRole = workspace.RoleOf(actorId);
        if (actorRole is null)
        {
            throw CommandRejected.NotFound("The workspace");
        }
        if (actorRole != "admin")
        {
            throw CommandRejected.Forbidden("Only workspace admins add members.");
        }
        if (!userExists)
        {
            throw CommandRejected.NotFound("The user");
        }
        var currentRole = workspace.RoleOf(command.UserId!);
        var role = command.Role ?? currentRole ?? "member";
        if (!WorkspaceAccess.Roles.Contains(role))
        {
            throw CommandRejected.Invalid("A role is admin, member or auditor.");
        }
        if (role == currentRole)
        {
            return [];
        }
        if (currentRole == "admin" && adminCount <= 1)
        {
            throw CommandRejected.Conflict(ErrorCodes.LastAdmin, "The last admin keeps the role: make another member admin first.");
        }
        return [new WorkspaceMemberAdded(workspace.WorkspaceId, command.UserId!, role, actorId)];
    }

    public static RouteGroupBuilder MapWorkspaceMembers(this RouteGroupBuilder group)
    {
        group.MapPost("/workspaces/{workspaceId}/members", Add).WithName("AddWorkspaceMember");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Add(
        string workspaceId, AddWorkspaceMember command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var userId = command.UserId?.Trim() ?? "";
        var result = await WorkspacePipeline.RunAsync(store, actor,
            async (tx, token) => (
                Workspace: await WorkspaceWriteSide.LoadAsync(tx, workspaceId, [actor.UserId, userId], token, lockRow: true),
                UserExists: Ids.IsValid(userId) && await UserWriteSide.ExistsAsync(tx, userId, token),
                Admins: await WorkspaceWriteSide.AdminCountAsync(tx, workspaceId, token)),
            loaded => loaded.Workspace,
            loaded => Decide(loaded.Workspace, loaded.UserExists, loaded.Admins, command with { UserId = userId }, actor.UserId), ct);
        return TypedResults.Ok(new PositionResponse(result?.Position ?? await store.HeadPositionAsync(Ids.WorkspaceStream(workspaceId), ct)));
    }
}
