using System.Collections.Immutable;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using Npgsql;

namespace EventSourcedChat.Commands.Workspaces;

/// <summary>
/// The write-side tables of workspace streams (<c>ws_workspaces</c>, <c>ws_workspace_members</c>): kept by
/// <see cref="ApplyAsync"/>, one case per event, mirroring <see cref="WorkspaceState.Evolve"/>; read in O(1) by
/// <see cref="LoadAsync"/> as the slice of the folded state a command needs (the roles of the users it names).
/// </summary>
public static class WorkspaceWriteSide
{
    /// <summary>
    /// The workspace with the roles of <paramref name="userIds"/>, read in the command's transaction;
    /// <see cref="WorkspaceState.Initial"/> when it does not exist. With <paramref name="lockRow"/> the workspace row is
    /// locked first, so commands on one workspace take turns instead of conflicting.
    /// </summary>
    public static async Task<WorkspaceState> LoadAsync(
        NpgsqlTransaction tx, string workspaceId, IReadOnlyCollection<string> userIds, CancellationToken ct, bool lockRow = false)
    {
        if (!Ids.IsValid(workspaceId))
        {
            return WorkspaceState.Initial;
        }
        if (lockRow)
        {
            // Lock first, then read in the next statement: it sees what the lock's previous holder committed.
            await tx.ExecuteAsync("select 1 from ws_workspaces where workspace_id = $1 for update", ct, workspaceId);
        }
        await using var cmd = new NpgsqlCommand(Select, tx.Connection, tx);
        cmd.Parameters.AddWithValue(workspaceId);
        cmd.Parameters.AddWithValue(userIds.ToArray());
        return await ReadAsync(cmd, workspaceId, ct);
    }

    /// <summary>How many admins the workspace has, read in the command's transaction (after the row's lock: see <see cref="LoadAsync(NpgsqlTransaction, string, IReadOnlyCollection{string}, CancellationToken, bool)"/>).</summary>
    public static async Task<int> AdminCountAsync(NpgsqlTransaction tx, string workspaceId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "select count(*)::int from ws_workspace_members where workspace_id = $1 and role = 'admin'", tx.Connection, tx);
        cmd.Parameters.AddWithValue(workspaceId);
        return (int)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The same outside a command's transaction.</summary>
    public static async Task<WorkspaceState> LoadAsync(NpgsqlDataSource db, string workspaceId, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        if (!Ids.IsValid(workspaceId))
        {
            return WorkspaceState.Initial;
        }
        await using var cmd = db.Command(Select, workspaceId, userIds.ToArray());
        return await ReadAsync(cmd, workspaceId, ct);
    }

    private const string Select = """
        select w.name, w.created_by, w.version, m.user_id, m.role
          from ws_workspaces w
          left join ws_workspace_members m on m.workspace_id = w.workspace_id and m.user_id = any ($2)
         where w.workspace_id = $1
        """;

    private static async Task<WorkspaceState> ReadAsync(NpgsqlCommand cmd, string workspaceId, CancellationToken ct)
    {
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var state = WorkspaceState.Initial;
        while (await r.ReadAsync(ct))
        {
            state = state with { WorkspaceId = workspaceId, Name = r.GetString(0), CreatedBy = r.GetString(1), Version = r.GetInt64(2) };
            if (!r.IsDBNull(3))
            {
                state = state with { Roles = state.Roles.SetItem(r.GetString(3), r.GetString(4)) };
            }
        }
        return state;
    }

    /// <summary>Moves the tables by the events just appended (versions <paramref name="firstVersion"/> on), in one round trip.</summary>
    public static async Task ApplyAsync(NpgsqlTransaction tx, string workspaceId, long firstVersion, IReadOnlyList<object> events, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        var version = firstVersion;
        foreach (var e in events)
        {
            switch (e)
            {
                case WorkspaceCreated c:
                    batch.Add("insert into ws_workspaces (workspace_id, name, created_by, version) values ($1, $2, $3, $4)",
                        workspaceId, c.Name, c.CreatedBy, version);
                    break;
                case WorkspaceMemberAdded m:
                    batch.Add("""
                        insert into ws_workspace_members (workspace_id, user_id, role) values ($1, $2, $3)
                        on conflict (workspace_id, user_id) do update set role = excluded.role
                        """, workspaceId, m.UserId, m.Role);
                    break;
                case WorkspaceMemberRemoved r:
                    batch.Add("delete from ws_workspace_members where workspace_id = $1 and user_id = $2", workspaceId, r.UserId);
                    break;
                case ChannelAuditRead:
                    break;
                case InviteCreated or InviteAccepted or InviteRevoked:
                    InviteWriteSide.Add(batch, workspaceId, e);
                    break;
                default:
                    throw new UnknownEventException("workspace", e);
            }
            version++;
        }
        batch.Add("update ws_workspaces set version = $2 where workspace_id = $1", workspaceId, version - 1);
        await batch.ExecuteNonQueryAsync(ct);
    }
}
