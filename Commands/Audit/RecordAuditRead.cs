using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Audit;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Commands.Audit;

/// <summary>
/// The write half of every audit read: only a workspace admin or auditor of the channel's workspace may audit it, and
/// the read is appended to the workspace stream (<c>audit.read</c>) before anything is shown. Reads the write-side
/// tables, so a role granted or revoked a moment ago counts at once.
/// </summary>
public sealed class RecordAuditRead(ChatEventStore store) : IAuditTrail
{
    public static readonly string[] AuditingRoles = ["admin", "auditor"];

    /// <summary>The event recording the read, or nothing when the user may not audit the channel (or it does not exist).</summary>
    public static ChannelAuditRead? Decide(string? workspaceId, string? role, AuditReadRequest request)
    {
        if (workspaceId is null || role is null || !AuditingRoles.Contains(role))
        {
            return null;
        }
        return new ChannelAuditRead(workspaceId, request.ChannelId, request.UserId, request.Read, request.FromSeq, request.ToSeq, request.AsOf);
    }

    public async Task<AuditReadRecorded?> RecordAsync(AuditReadRequest request, CancellationToken ct)
    {
        if (!Ids.IsValid(request.ChannelId))
        {
            return null;
        }
        return await store.InTransactionAsync(async (tx, token) =>
        {
            // The workspace row is locked first (audit reads of one workspace append one after the other, at its
            // version); the second statement then sees the role as the lock's previous holder committed it.
            await tx.ExecuteAsync("""
                select 1 from ws_channels c join ws_workspaces w on w.workspace_id = c.workspace_id
                 where c.channel_id = $1 for update of w
                """, token, request.ChannelId);
            await using var cmd = new Npgsql.NpgsqlCommand("""
                select w.workspace_id, w.version,
                       (select m.role from ws_workspace_members m where m.workspace_id = w.workspace_id and m.user_id = $2)
                  from ws_channels c join ws_workspaces w on w.workspace_id = c.workspace_id
                 where c.channel_id = $1
                """, tx.Connection, tx);
            cmd.Parameters.AddWithValue(request.ChannelId);
            cmd.Parameters.AddWithValue(request.UserId);
            string? workspaceId = null, role = null;
            long version = 0;
            await using (var r = await cmd.ExecuteReaderAsync(token))
            {
                if (await r.ReadAsync(token))
                {
                    (workspaceId, version, role) = (r.GetString(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetString(2));
                }
            }
            if (Decide(workspaceId, role, request) is not { } read)
            {
                return null;
            }
            var actor = new Actor(request.UserId, request.CorrelationId);
            var appended = await store.AppendAsync(tx, Ids.WorkspaceStream(read.WorkspaceId), ExpectedVersion.Exactly(version), [read], actor, ct: token);
            await Workspaces.WorkspaceWriteSide.ApplyAsync(tx, read.WorkspaceId, appended.Version, [read], token);
            return new AuditReadRecorded(read.WorkspaceId, appended.Position);
        }, ct);
    }
}
