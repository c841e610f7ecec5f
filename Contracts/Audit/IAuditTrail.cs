namespace EventSourcedChat.Contracts.Audit;

/// <summary>What an audit read covers: the channel, the kind of read and the seq range (and instant) it shows.</summary>
public sealed record AuditReadRequest(string ChannelId, string UserId, string CorrelationId, string Read, long FromSeq, long ToSeq, DateTimeOffset? AsOf);

/// <summary>The recorded audit read: the channel's workspace and the position of the <c>audit.read</c> event.</summary>
public sealed record AuditReadRecorded(string WorkspaceId, long Position);

/// <summary>
/// Decides whether a user may audit a channel (a workspace admin or auditor of its workspace) and, when they may,
/// appends the <c>audit.read</c> event to the workspace stream before anything is shown. Implemented by the write
/// side, which owns the workspace stream; the audit queries call it.
/// </summary>
public interface IAuditTrail
{
    /// <summary>Null when the channel does not exist or the user may not audit it (the caller answers 404).</summary>
    Task<AuditReadRecorded?> RecordAsync(AuditReadRequest request, CancellationToken ct);
}
