namespace EventSourcedChat.Contracts.Events;

// Stream: workspace-{workspaceId}. Invites to a workspace: by email (one use) or a shareable link (a use limit).

/// <summary>
/// An admin made an invite. Only the SHA-256 of the link's secret is kept (<paramref name="CodeHash"/>, hex), never the
/// secret. <paramref name="Email"/> (lower case) for an invite mailed to one address, which only an account with that
/// address may accept; null for a shareable link. It works until <paramref name="ExpiresAt"/>, for
/// <paramref name="MaxUses"/> accepts.
/// </summary>
[EventType("workspace.invite_created")]
public sealed record InviteCreated(
    string WorkspaceId, string InviteId, string CodeHash, string? Email, int MaxUses, DateTimeOffset ExpiresAt, string CreatedBy);

/// <summary>
/// Someone signed in followed the invite and joined: appended with the <see cref="WorkspaceMemberAdded"/> that makes them a
/// member (added by the invite's creator), so everything that follows memberships needs nothing new.
/// </summary>
[EventType("workspace.invite_accepted")]
public sealed record InviteAccepted(string WorkspaceId, string InviteId, string UserId);

/// <summary>An admin revoked the invite: it no longer works, whatever its uses and expiry.</summary>
[EventType("workspace.invite_revoked")]
public sealed record InviteRevoked(string WorkspaceId, string InviteId, string RevokedBy);
