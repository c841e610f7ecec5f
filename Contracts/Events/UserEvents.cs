namespace EventSourcedChat.Contracts.Events;

// Stream: user-{userId}

[EventType("user.registered")]
public sealed record UserRegistered(string UserId, string Email, string DisplayName, string PasswordHash);

[EventType("read.marker")]
public sealed record ReadMarkerMoved(string UserId, string ChannelId, long Seq);

/// <summary>
/// The profile after a change (display name, title, time zone; an empty title or time zone is none).
/// <paramref name="WorkspaceIds"/> are the workspaces the user was in when it was made: who is pushed <c>user.updated</c>
/// (the push's routing is a function of the stored event alone).
/// </summary>
[EventType("user.profile_updated")]
public sealed record UserProfileUpdated(string UserId, string DisplayName, string? Title, string? TimeZone, IReadOnlyList<string> WorkspaceIds);

/// <summary>A custom status; past <paramref name="ExpiresAt"/> it reads as none (computed at read time, nothing is appended).</summary>
[EventType("user.status_set")]
public sealed record UserStatusSet(string UserId, string Emoji, string Text, DateTimeOffset? ExpiresAt, IReadOnlyList<string> WorkspaceIds);

[EventType("user.status_cleared")]
public sealed record UserStatusCleared(string UserId, IReadOnlyList<string> WorkspaceIds);
