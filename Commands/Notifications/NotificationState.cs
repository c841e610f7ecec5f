using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Notifications;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>A person's mail notification preferences as folded from <see cref="NotificationPreferencesSet"/>.</summary>
/// <param name="DigestMinutes">The digest delay, and the least time between two mails; 0: the server's default.</param>
public sealed record NotificationPreferences(
    bool Email, int DigestMinutes, string? DndFrom, string? DndTo, string? DndTimeZone, DateTimeOffset? SnoozeUntil)
{
    public static NotificationPreferences Default { get; } = new(true, 0, null, null, null, null);

    public static NotificationPreferences Of(NotificationPreferencesSet e) =>
        new(e.Email, e.DigestMinutes, e.DndFrom, e.DndTo, e.DndTimeZone, e.SnoozeUntil);
}

/// <summary>A person's setting for one channel: <c>all</c>, <c>mentions</c> (the default) or <c>none</c>, and muted.</summary>
public sealed record ChannelNotificationSetting(string Level, bool Muted)
{
    public static ChannelNotificationSetting Default { get; } = new(NotificationNames.LevelMentions, false);
}
