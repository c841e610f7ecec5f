using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using Npgsql;

namespace EventSourcedChat.Commands.Workspaces;

/// <summary>
/// The write-side table of invites (<c>ws_invites</c>, migration 0025): moved by <see cref="Add"/>, one case per invite
/// event, mirroring <see cref="WorkspaceState"/>'s invite fold (called from <see cref="WorkspaceWriteSide.ApplyAsync"/>,
/// in the append's transaction); read back in O(1) as the one invite a command names.
/// </summary>
public static class InviteWriteSide
{
    /// <summary>Queues the row change of one invite event into the append's batch.</summary>
    public static void Add(NpgsqlBatch batch, string workspaceId, object @event)
    {
        switch (@event)
        {
            case InviteCreated c:
                batch.Add("""
                    insert into ws_invites (invite_id, workspace_id, code_hash, email, max_uses, expires_at, created_by)
                    values ($1, $2, $3, $4, $5, $6, $7)
                    """, c.InviteId, workspaceId, c.CodeHash, c.Email, c.MaxUses, c.ExpiresAt, c.CreatedBy);
                break;
            case InviteAccepted a:
                batch.Add("update ws_invites set uses = uses + 1 where invite_id = $1 and workspace_id = $2", a.InviteId, workspaceId);
                break;
            case InviteRevoked r:
                batch.Add("update ws_invites set revoked = true where invite_id = $1 and workspace_id = $2", r.InviteId, workspaceId);
                break;
            default:
                throw new UnknownEventException("workspace", @event);
        }
    }

    /// <summary>The workspace an invite belongs to, or null when there is no such invite.</summary>
    public static async Task<string?> WorkspaceOfAsync(NpgsqlDataSource db, string inviteId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select workspace_id from ws_invites where invite_id = $1");
        cmd.Parameters.AddWithValue(inviteId);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    /// <summary><paramref name="workspace"/> with the invite added to its <see cref="WorkspaceState.Invites"/>, when it is one of that workspace.</summary>
    public static async Task<WorkspaceState> WithInviteAsync(NpgsqlTransaction tx, WorkspaceState workspace, string inviteId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            select code_hash, email, max_uses, uses, expires_at, created_by, revoked
              from ws_invites where invite_id = $1 and workspace_id = $2
            """, tx.Connection, tx);
        cmd.Parameters.AddWithValue(inviteId);
        cmd.Parameters.AddWithValue(workspace.WorkspaceId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return workspace;
        }
        var invite = new InviteState(inviteId, r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt32(2), r.GetInt32(3),
            r.GetFieldValue<DateTimeOffset>(4), r.GetString(5), r.GetBoolean(6));
        return workspace with { Invites = workspace.Invites.SetItem(inviteId, invite) };
    }
}
