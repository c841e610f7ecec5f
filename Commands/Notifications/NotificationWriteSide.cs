using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>
/// The write-side tables of the user streams' notification events (<c>ws_notification_preferences</c>,
/// <c>ws_channel_notifications</c>, <c>ws_thread_follows</c>), mirroring <see cref="UserState.Evolve"/>, and the slice
/// the notification commands load.
/// </summary>
public static class NotificationWriteSide
{
    /// <summary>Queues the statements of one notification event (called by <see cref="UserWriteSide.ApplyAsync"/>).</summary>
    public static void Add(NpgsqlBatch batch, string userId, object e)
    {
        switch (e)
        {
            case NotificationPreferencesSet p:
                batch.Add("""
                    insert into ws_notification_preferences (user_id, email, digest_minutes, dnd_from, dnd_to, dnd_time_zone, snooze_until)
                    values ($1, $2, $3, $4, $5, $6, $7)
                    on conflict (user_id) do update set email = excluded.email, digest_minutes = excluded.digest_minutes,
                        dnd_from = excluded.dnd_from, dnd_to = excluded.dnd_to, dnd_time_zone = excluded.dnd_time_zone,
                        snooze_until = excluded.snooze_until
                    """, userId, p.Email, p.DigestMinutes, p.DndFrom, p.DndTo, p.DndTimeZone, p.SnoozeUntil?.ToUniversalTime());
                break;
            case ChannelNotificationsSet c:
                batch.Add("""
                    insert into ws_channel_notifications (user_id, channel_id, level, muted) values ($1, $2, $3, $4)
                    on conflict (user_id, channel_id) do update set level = excluded.level, muted = excluded.muted
                    """, userId, c.ChannelId, c.Level, c.Muted);
                break;
            case ThreadFollowed f:
                batch.Add(Follow, userId, f.ChannelId, f.RootSeq, true);
                break;
            case ThreadUnfollowed u:
                batch.Add(Follow, userId, u.ChannelId, u.RootSeq, false);
                break;
            default:
                throw new UnknownEventException("user", e);
        }
    }

    private const string Follow = """
        insert into ws_thread_follows (user_id, channel_id, root_seq, following) values ($1, $2, $3, $4)
        on conflict (user_id, channel_id, root_seq) do update set following = excluded.following
        """;

    /// <summary>
    /// The user's stream version, email and notification preferences (<see cref="UserState.Initial"/> when there is no
    /// such user). The version is read first: a change in between makes the append at it conflict (and the command run again).
    /// </summary>
    public static async Task<UserState> LoadPreferencesAsync(PostgresEventStore log, NpgsqlTransaction tx, string userId, CancellationToken ct)
    {
        var version = await log.GetStreamVersionAsync(StreamNames.User(userId), ct);
        await using var cmd = new NpgsqlCommand("""
            select u.email, u.display_name, p.email, p.digest_minutes, p.dnd_from, p.dnd_to, p.dnd_time_zone, p.snooze_until
              from ws_users u left join ws_notification_preferences p using (user_id) where u.user_id = $1
            """, tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return UserState.Initial;
        }
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        var preferences = r.IsDBNull(2)
            ? NotificationPreferences.Default
            : new NotificationPreferences(r.GetBoolean(2), r.GetInt32(3), Text(4), Text(5), Text(6),
                r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7));
        return UserState.Initial with
        {
            UserId = userId, Email = r.GetString(0), DisplayName = r.GetString(1), Version = version, Notifications = preferences,
        };
    }

    /// <summary>The user's stream version with their setting for one channel and their own follow of one thread, if any.</summary>
    public static async Task<UserState> LoadChannelAsync(
        PostgresEventStore log, NpgsqlTransaction tx, string userId, string channelId, long? rootSeq, CancellationToken ct)
    {
        var version = await log.GetStreamVersionAsync(StreamNames.User(userId), ct);
        await using var cmd = new NpgsqlCommand("""
            select (select level from ws_channel_notifications where user_id = $1 and channel_id = $2),
                   (select muted from ws_channel_notifications where user_id = $1 and channel_id = $2),
                   (select following from ws_thread_follows where user_id = $1 and channel_id = $2 and root_seq = $3)
            """, tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        cmd.Parameters.AddWithValue(channelId);
        cmd.Parameters.AddWithValue(rootSeq ?? 0L);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        var state = UserState.Initial with { UserId = userId, Version = version };
        if (!r.IsDBNull(0))
        {
            state = state with { ChannelNotifications = state.ChannelNotifications.Add(channelId, new(r.GetString(0), r.GetBoolean(1))) };
        }
        if (rootSeq is { } root && !r.IsDBNull(2))
        {
            state = state with { FollowedThreads = state.FollowedThreads.Add((channelId, root), r.GetBoolean(2)) };
        }
        return state;
    }

    /// <summary>The user's own settings per channel (<c>ws_channel_notifications</c>), by channel id.</summary>
    public static async Task<List<ChannelNotificationView>> LoadChannelSettingsAsync(NpgsqlTransaction tx, string userId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "select channel_id, level, muted from ws_channel_notifications where user_id = $1 order by channel_id", tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<ChannelNotificationView>();
        while (await r.ReadAsync(ct))
        {
            list.Add(new ChannelNotificationView(r.GetString(0), r.GetString(1), r.GetBoolean(2)));
        }
        return list;
    }
}
