namespace EventSourcedChat.Contracts.Events;

// Stream: user-{userId}. A person's notification preferences and the threads they follow or stopped following; the
// notification worker applies them from the log (docs/notifications.md).

/// <summary>
/// The person's mail notification preferences after a change: <paramref name="Email"/> on or off, the digest delay in
/// minutes (<paramref name="DigestMinutes"/>, 0 for the server's default), a do-not-disturb window (local times
/// <c>HH:mm</c> in <paramref name="DndTimeZone"/>; none when <paramref name="DndFrom"/> is null) and a snooze until an
/// instant. <paramref name="Via"/> is <c>settings</c> (the API) or <c>unsubscribe</c> (a mail's link).
/// </summary>
[EventType("user.notification_preferences_set", version: 1)]
public sealed record NotificationPreferencesSet(
    string UserId, bool Email, int DigestMinutes, string? DndFrom, string? DndTo, string? DndTimeZone, DateTimeOffset? SnoozeUntil, string Via);

/// <summary>The person's notification level in one channel (<c>all</c>, <c>mentions</c> or <c>none</c>) and whether it is muted.</summary>
[EventType("user.channel_notifications_set", version: 1)]
public sealed record ChannelNotificationsSet(string UserId, string ChannelId, string Level, bool Muted);

/// <summary>The person follows the thread under the top-level message <paramref name="RootSeq"/>: its replies notify them.</summary>
[EventType("user.thread_followed", version: 1)]
public sealed record ThreadFollowed(string UserId, string ChannelId, long RootSeq);

/// <summary>The person stopped following a thread (also one they followed automatically, as its author or a replier).</summary>
[EventType("user.thread_unfollowed", version: 1)]
public sealed record ThreadUnfollowed(string UserId, string ChannelId, long RootSeq);
