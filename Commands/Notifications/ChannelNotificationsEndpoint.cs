using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Notifications;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Notifications;

/// <param name="Level"><c>all</c> (every message), <c>mentions</c> (the default: mentions, DMs, @channel, @here, followed threads) or <c>none</c>.</param>
public sealed record SetChannelNotifications(string? Level, bool? Muted);

public static class ChannelNotificationsEndpoint
{
    /// <summary>
    /// The caller's notification setting for a channel they can see (404 otherwise); a level left out stays as it is,
    /// muted left out is false. The same setting again decides nothing.
    /// </summary>
    public static ChannelNotificationsSet? Decide(WorkspaceState workspace, ChannelState channel, UserState user, SetChannelNotifications command)
    {
        ChannelRules.EnsureVisible(workspace, channel, user.UserId);
        var current = user.ChannelNotifications.GetValueOrDefault(channel.ChannelId) ?? ChannelNotificationSetting.Default;
        if (command.Level is { } level && !NotificationNames.IsLevel(level))
        {
            throw CommandRejected.Invalid("level is all, mentions or none.");
        }
        var next = new ChannelNotificationSetting(command.Level ?? current.Level, command.Muted ?? false);
        return next == current && user.ChannelNotifications.ContainsKey(channel.ChannelId)
            ? null
            : new ChannelNotificationsSet(user.UserId, channel.ChannelId, next.Level, next.Muted);
    }

    public static RouteGroupBuilder MapChannelNotifications(this RouteGroupBuilder group)
    {
        group.MapPut("/channels/{channelId}/notifications", Handle).WithName("SetChannelNotifications");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, SetChannelNotifications command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var result = await UserPipeline.RunAsync(store, actor.UserId, actor,
            async (tx, token) =>
            {
                var (workspace, channel) = await ChannelWriteSide.LoadAsync(tx, channelId, actor.UserId, ChannelSlice.None, token);
                ChannelRules.EnsureVisible(workspace, channel, actor.UserId);
                return (workspace, channel, User: await NotificationWriteSide.LoadChannelAsync(store.Log, tx, actor.UserId, channelId, null, token));
            },
            loaded => loaded.User,
            loaded => Decide(loaded.workspace, loaded.channel, loaded.User, command) is { } set ? [set] : [], ct);
        return TypedResults.Ok(new PositionResponse(result?.Position ?? await store.HeadPositionAsync(Ids.UserStream(actor.UserId), ct)));
    }
}
