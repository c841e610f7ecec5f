using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Audit;
using EventSourcedChat.Contracts.Events;

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
        var actor = new Actor(request.UserId, request.CorrelationId);
        ChannelAuditRead? read = null;
        var appended = await WorkspacePipeline.RunAsync(store, actor,
            async (tx, token) =>
            {
                // The workspace row is locked first (audit reads of one workspace append one after the other, at its
                // version); the next statement then sees the role as the lock's previous holder committed it.
                var workspaceId = await tx.ScalarAsync<string>("""
                    select w.workspace_id from ws_channels c join ws_workspaces w on w.workspace_id = c.workspace_id
                     where c.channel_id = $1 for update of w
                    """, token, request.ChannelId);
                return workspaceId is null
                    ? WorkspaceState.Initial
                    : await WorkspaceWriteSide.LoadAsync(tx, workspaceId, [request.UserId], token);
            },
            workspace => workspace,
            workspace =>
            {
                read = Decide(workspace.Exists ? workspace.WorkspaceId : null, workspace.RoleOf(request.UserId), request);
                return read is null ? [] : [read];
            }, ct);
        return appended is null ? null : new AuditReadRecorded(read!.WorkspaceId, appended.Position);
    }
}
