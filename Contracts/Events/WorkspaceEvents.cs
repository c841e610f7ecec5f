namespace EventSourcedChat.Contracts.Events;

// Stream: workspace-{workspaceId}

[EventType("workspace.created")]
public sealed record WorkspaceCreated(string WorkspaceId, string Name, string CreatedBy);

[EventType("workspace.member_added")]
public sealed record WorkspaceMemberAdded(string WorkspaceId, string UserId, string Role, string AddedBy);

/// <summary>
/// An auditor (or workspace admin) read a channel's raw history: who, which channel, which seq range, and for an
/// as-of read the instant asked for. <paramref name="Read"/> is <c>events</c>, <c>verify</c> or <c>as-of</c>;
/// when it was read is the event's own time.
/// </summary>
[EventType("audit.read")]
public sealed record ChannelAuditRead(
    string WorkspaceId, string ChannelId, string UserId, string Read, long FromSeq, long ToSeq, DateTimeOffset? AsOf);
