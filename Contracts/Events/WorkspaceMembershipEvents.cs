namespace EventSourcedChat.Contracts.Events;

// Stream: workspace-{workspaceId}. Membership ending (added members: WorkspaceMemberAdded in WorkspaceEvents.cs).

/// <summary>
/// A member is no longer in the workspace: removed by an admin (<paramref name="RemovedBy"/>), or left by themselves
/// (null). Their channel memberships end with a <see cref="MemberLeft"/> on each channel stream, appended right after by
/// the same command; until then, and for any one that a crash left behind, channel decisions and queries already refuse
/// them (they hold no workspace role). Adding them again (<see cref="WorkspaceMemberAdded"/>) makes them a member anew.
/// </summary>
[EventType("workspace.member_removed", version: 1)]
public sealed record WorkspaceMemberRemoved(string WorkspaceId, string UserId, string? RemovedBy);
