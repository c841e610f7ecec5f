using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Workspaces;

public sealed record AddWorkspaceMember(string? UserId, string? Role);

public sealed record PositionResponse(long Position);

public static class WorkspaceMembersEndpoints
{
    /// <summary>An admin adds a registered user, or changes a member's role. The same role again changes nothing.</summary>
    public static IReadOnlyList<object> Decide(string workspaceId, string? actorRole, string? currentRole, bool userExists, AddWorkspaceMember command, string actorId)
    {
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
        var role = command.Role ?? currentRole ?? "member";
        if (!WorkspaceAccess.Roles.Contains(role))
        {
            throw CommandRejected.Invalid("A role is admin, member or auditor.");
        }
        return role == currentRole ? [] : [new WorkspaceMemberAdded(workspaceId, command.UserId!, role, actorId)];
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
        var actorRole = await WorkspaceAccess.RoleOfAsync(store.DataSource, workspaceId, actor.UserId, ct);
        var userId = command.UserId?.Trim() ?? "";
        await using var cmd = store.DataSource.Command("""
            select exists (select 1 from ws_users where user_id = $2),
                   (select role from ws_workspace_members where workspace_id = $1 and user_id = $2),
                   (select version from ws_workspaces where workspace_id = $1)
            """, workspaceId, userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        var (exists, currentRole, version) = (r.GetBoolean(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? 0 : r.GetInt64(2));
        var events = Decide(workspaceId, actorRole, currentRole, exists && Ids.IsValid(userId), command with { UserId = userId }, actor.UserId);
        if (events.Count == 0)
        {
            return TypedResults.Ok(new PositionResponse(await store.HeadPositionAsync(Ids.WorkspaceStream(workspaceId), ct)));
        }
        var added = (WorkspaceMemberAdded)events[0];
        var result = await store.AppendAsync(Ids.WorkspaceStream(workspaceId), ExpectedVersion.Exactly(version), events, actor,
            async (appended, tx, token) =>
            {
                await tx.ExecuteAsync("""
                    insert into ws_workspace_members (workspace_id, user_id, role) values ($1, $2, $3)
                    on conflict (workspace_id, user_id) do update set role = excluded.role
                    """, token, workspaceId, added.UserId, added.Role);
                await tx.ExecuteAsync("update ws_workspaces set version = $2 where workspace_id = $1", token, workspaceId, appended.Version);
            }, ct: ct);
        return TypedResults.Ok(new PositionResponse(result.Position));
    }
}
