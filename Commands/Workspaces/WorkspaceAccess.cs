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
}
