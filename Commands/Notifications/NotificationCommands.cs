using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Notifications;

public static class NotificationCommands
{
    /// <summary>Preferences, channel settings, thread follows and the unsubscribe link.</summary>
    public static RouteGroupBuilder MapNotificationCommands(this RouteGroupBuilder group) =>
        group.MapNotificationPreferences().MapChannelNotifications().MapFollowThread().MapUnsubscribe();
}
