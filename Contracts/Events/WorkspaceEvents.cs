namespace EventSourcedChat.Contracts.Events;

// Stream: workspace-{workspaceId}

[EventType("workspace.created")]
public sealed record WorkspaceCreated(string WorkspaceId, string Name, string CreatedBy);

[EventType("workspace.member_added")]
public sealed record WorkspaceMemberAdded(string WorkspaceId, string UserId, string Role, string AddedBy);
