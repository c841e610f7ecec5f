namespace EventSourcedChat.Contracts.Events;

// Stream: user-{userId}

[EventType("user.registered")]
public sealed record UserRegistered(string UserId, string Email, string DisplayName, string PasswordHash);

[EventType("read.marker")]
public sealed record ReadMarkerMoved(string UserId, string ChannelId, long Seq);
