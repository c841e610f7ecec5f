using Npgsql;

namespace EventSourcedChat.ReadModels.Workspaces;

/// <summary>Who shares a workspace with whom, from the directory projection's <c>workspace_members</c>.</summary>
public static class WorkspaceMembership
{
    /// <summary>
    /// Those of <paramref name="userIds"/> the caller may see (as <c>GET /v1/users/{id}</c>): the caller, and users sharing
    /// a workspace with them. A read model, so a membership counts once the directory projection applied it; a client
    /// learns of other users through the same projection (members, channel lists), and a caller that just added one can
    /// wait for it with read-your-writes (<c>?minPosition=</c> on any directory query).
    /// </summary>
    public static async Task<string[]> VisibleUsersAsync(NpgsqlDataSource db, string callerId, string[] userIds, CancellationToken ct)
    {
        if (userIds.Length == 0)
        {
            return userIds;
        }
        await using var cmd = db.CreateCommand("""
            select u from unnest($1::text[]) u
             where u = $2 or exists (
                 select 1 from rm_directory.workspace_members theirs
                   join rm_directory.workspace_members mine on mine.workspace_id = theirs.workspace_id and mine.user_id = $2
                  where theirs.user_id = u)
            """);
        cmd.Parameters.AddWithValue(userIds);
        cmd.Parameters.AddWithValue(callerId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var visible = new List<string>(userIds.Length);
        while (await r.ReadAsync(ct))
        {
            visible.Add(r.GetString(0));
        }
        return [.. visible];
    }

    /// <summary>The caller's role in the workspace (<c>admin</c>, <c>member</c>, <c>auditor</c>), or null when they are not in it.</summary>
    public static async Task<string?> RoleOfAsync(NpgsqlDataSource db, string workspaceId, string userId, CancellationToken ct)
    {
        if (workspaceId is not { Length: 32 } || !workspaceId.All(char.IsAsciiHexDigitLower))
        {
            return null; // ids are 32 hex digits: anything else names no workspace
        }
        await using var cmd = db.CreateCommand("select role from rm_directory.workspace_members where workspace_id = $1 and user_id = $2");
        cmd.Parameters.AddWithValue(workspaceId);
        cmd.Parameters.AddWithValue(userId);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }
}
