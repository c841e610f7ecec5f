using EventSourcedChat.Commands.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Commands.Workspaces;

public static class WorkspaceAccess
{
    public static readonly string[] Roles = ["admin", "member", "auditor"];

    /// <summary>The user's role in the workspace, or null when they are not in it (or it does not exist).</summary>
    public static async Task<string?> RoleOfAsync(NpgsqlDataSource db, string workspaceId, string userId, CancellationToken ct)
    {
        if (!Ids.IsValid(workspaceId))
        {
            return null;
        }
        await using var cmd = db.Command("select role from ws_workspace_members where workspace_id = $1 and user_id = $2", workspaceId, userId);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>
    /// Those of <paramref name="userIds"/> the caller may see (as <c>GET /v1/users/{id}</c>): the caller, and users sharing
    /// a workspace with them. From the write side, so a membership counts the moment it was acknowledged.
    /// </summary>
    public static async Task<string[]> VisibleUsersAsync(NpgsqlDataSource db, string callerId, string[] userIds, CancellationToken ct)
    {
        if (userIds.Length == 0)
        {
            return userIds;
        }
        await using var cmd = db.Command("""
            select u from unnest($1::text[]) u
             where u = $2 or exists (
                 select 1 from ws_workspace_members theirs
                   join ws_workspace_members mine on mine.workspace_id = theirs.workspace_id and mine.user_id = $2
                  where theirs.user_id = u)
            """, userIds, callerId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var visible = new List<string>(userIds.Length);
        while (await r.ReadAsync(ct))
        {
            visible.Add(r.GetString(0));
        }
        return [.. visible];
    }
}
