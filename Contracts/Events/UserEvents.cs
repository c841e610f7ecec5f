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

/// <summary>
/// The user's password was replaced: <paramref name="Via"/> is <c>change</c> (the user, knowing the current one) or
/// <c>reset</c> (a reset link). Every session of the user is revoked with it but <paramref name="KeptSessionId"/>, the
/// token id of the session that changed it (none after a reset). A pending reset link dies with it.
/// </summary>
[EventType("user.password_changed")]
public sealed record PasswordChanged(string UserId, string PasswordHash, string Via, string? KeptSessionId);

/// <summary>
/// A password reset link was mailed: only the SHA-256 of its secret is kept (<paramref name="TokenHash"/>, hex), valid
/// until <paramref name="ExpiresAt"/> and for one use; a newer request replaces it.
/// </summary>
[EventType("user.password_reset_requested")]
public sealed record PasswordResetRequested(string UserId, string TokenHash, DateTimeOffset RequestedAt, DateTimeOffset ExpiresAt);

/// <summary>One size of an avatar: a square WebP picture of <paramref name="Size"/> x <paramref name="Size"/> pixels, an object of the object store.</summary>
public sealed record AvatarImage(int Size, string ObjectId);

/// <summary>
/// The user's avatar is now the image of the file <paramref name="FileId"/> (one they uploaded; <paramref name="Sha256"/>
/// is its content's hash), cropped to its centred square and stored in each size of <paramref name="Images"/>, as objects
/// of the object store (their ids, never bytes). <paramref name="WorkspaceIds"/>: whom <c>user.updated</c> is pushed to.
/// </summary>
[EventType("user.avatar_set")]
public sealed record UserAvatarSet(string UserId, string FileId, string Sha256, IReadOnlyList<AvatarImage> Images, IReadOnlyList<string> WorkspaceIds);

/// <summary>The user removed their avatar: initials show again.</summary>
[EventType("user.avatar_removed")]
public sealed record UserAvatarRemoved(string UserId, IReadOnlyList<string> WorkspaceIds);
