using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Notifications;
using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// The write-side tables of user streams (<c>ws_users</c> with the profile and status, <c>ws_read_markers</c>): kept by
/// <see cref="ApplyAsync"/>, one case per event, mirroring <see cref="UserState.Evolve"/>. A password change also revokes
/// the user's other sessions, and a deactivation all of them, in the same transaction (<see cref="Sessions.RevokeAllSql"/>).
/// </summary>
public static class UserWriteSide
{
    /// <summary>
    /// The user's stream version and their read marker in one channel. The version is read first (through the log):
    /// a marker written in between makes the append at that version conflict (and the command run again).
    /// </summary>
    public static async Task<UserState> LoadReadMarkerAsync(
        PostgresEventStore log, NpgsqlTransaction tx, string userId, string channelId, CancellationToken ct)
    {
        var version = await log.GetStreamVersionAsync(StreamNames.User(userId), ct);
        await using var cmd = new NpgsqlCommand("select seq from ws_read_markers where user_id = $1 and channel_id = $2", tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        cmd.Parameters.AddWithValue(channelId);
        var marker = await cmd.ExecuteScalarAsync(ct) is long s ? s : 0;
        return UserState.Initial with
        {
            UserId = userId, Version = version, ReadMarkers = marker > 0 ? UserState.Initial.ReadMarkers.Add(channelId, marker) : UserState.Initial.ReadMarkers,
        };
    }

    /// <summary>
    /// The user's profile and status, and the workspaces they are in (who a change is pushed to), with the row locked:
    /// profile commands of one user take turns. <see cref="UserState.Initial"/> when the user does not exist.
    /// </summary>
    public static async Task<(UserState User, IReadOnlyList<string> WorkspaceIds)> LoadProfileAsync(
        PostgresEventStore log, NpgsqlTransaction tx, string userId, CancellationToken ct)
    {
        await using (var lockRow = new NpgsqlCommand("select 1 from ws_users where user_id = $1 for update", tx.Connection, tx))
        {
            lockRow.Parameters.AddWithValue(userId);
            await lockRow.ExecuteNonQueryAsync(ct);
        }
        var version = await log.GetStreamVersionAsync(StreamNames.User(userId), ct);
        await using var cmd = new NpgsqlCommand("""
            select email, display_name, title, time_zone, status_emoji, status_text, status_expires_at,
                   array(select workspace_id from ws_workspace_members m where m.user_id = u.user_id order by workspace_id),
                   avatar::text
              from ws_users u where user_id = $1
            """, tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return (UserState.Initial, []);
        }
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        var status = Text(4) is { } emoji
            ? new UserStatus(emoji, r.GetString(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6))
            : null;
        var user = UserState.Initial with
        {
            UserId = userId, Email = r.GetString(0), DisplayName = r.GetString(1), Version = version,
            Title = Text(2), TimeZone = Text(3), Status = status,
            Avatar = Text(8) is { } avatar ? JsonSerializer.Deserialize<AvatarFacts>(avatar, EventTypes.Json) : null,
        };
        return (user, r.GetFieldValue<string[]>(7));
    }

    /// <summary>
    /// The user's account as the password commands decide on it: stream version, email, password hash and pending reset
    /// (<see cref="UserState.Initial"/> when there is no such user). Nothing is locked (a lock would give the transaction an
    /// id while the password is hashed, holding back every subscriber of the log): two commands that loaded the same
    /// version cannot both append at it, so a reset link is used once.
    /// </summary>
    public static async Task<UserState> LoadAccountAsync(PostgresEventStore log, NpgsqlTransaction tx, string userId, CancellationToken ct)
    {
        var version = await log.GetStreamVersionAsync(StreamNames.User(userId), ct);
        await using var cmd = new NpgsqlCommand("""
            select email, display_name, password_hash, reset_token_hash, reset_requested_at, reset_expires_at, deactivated
              from ws_users where user_id = $1
            """, tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return UserState.Initial;
        }
        return UserState.Initial with
        {
            UserId = userId, Email = reader.GetString(0), DisplayName = reader.GetString(1), Version = version,
            PasswordHash = reader.GetString(2),
            Reset = reader.IsDBNull(3) ? null
                : new PendingReset(reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5)),
            Deactivated = reader.GetBoolean(6),
        };
    }

    /// <summary>The id of the user with this email address (any case), or null.</summary>
    public static async Task<string?> FindByEmailAsync(NpgsqlDataSource db, string email, CancellationToken ct)
    {
        await using var cmd = db.Command("select user_id from ws_users where lower(email) = lower($1)", email.Trim());
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>Whether the user registered (a workspace command that names them decides on it).</summary>
    public static async Task<bool> ExistsAsync(NpgsqlTransaction tx, string userId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select exists (select 1 from ws_users where user_id = $1)", tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Moves the tables by the events just appended, in one round trip.</summary>
    public static async Task ApplyAsync(NpgsqlTransaction tx, string userId, IReadOnlyList<object> events, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        foreach (var e in events)
        {
            switch (e)
            {
                case UserRegistered r:
                    batch.Add("insert into ws_users (user_id, email, display_name, password_hash) values ($1, $2, $3, $4)",
                        userId, r.Email, r.DisplayName, r.PasswordHash);
                    break;
                case ReadMarkerMoved m:
                    batch.Add("""
                        insert into ws_read_markers (user_id, channel_id, seq) values ($1, $2, $3)
                        on conflict (user_id, channel_id) do update set seq = excluded.seq
                        """, userId, m.ChannelId, m.Seq);
                    break;
                case UserProfileUpdated p:
                    batch.Add("update ws_users set display_name = $2, title = $3, time_zone = $4 where user_id = $1",
                        userId, p.DisplayName, p.Title, p.TimeZone);
                    break;
                case UserStatusSet st:
                    batch.Add("update ws_users set status_emoji = $2, status_text = $3, status_expires_at = $4 where user_id = $1",
                        userId, st.Emoji, st.Text, st.ExpiresAt);
                    break;
                case UserAvatarSet a:
                    batch.Add("update ws_users set avatar = $2::jsonb where user_id = $1",
                        userId, JsonSerializer.Serialize(new AvatarFacts(a.FileId, a.Sha256, a.Images), EventTypes.Json));
                    break;
                case UserAvatarRemoved:
                    batch.Add("update ws_users set avatar = null where user_id = $1", userId);
                    break;
                case UserStatusCleared:
                    batch.Add("update ws_users set status_emoji = null, status_text = null, status_expires_at = null where user_id = $1", userId);
                    break;
                case PasswordChanged c:
                    batch.Add("""
                        update ws_users set password_hash = $2, reset_token_hash = null, reset_requested_at = null, reset_expires_at = null
                         where user_id = $1
                        """, userId, c.PasswordHash);
                    batch.Add(Sessions.RevokeAllSql, userId, c.KeptSessionId);
                    break;
                case PasswordResetRequested r:
                    batch.Add("update ws_users set reset_token_hash = $2, reset_requested_at = $3, reset_expires_at = $4 where user_id = $1",
                        userId, r.TokenHash, r.RequestedAt, r.ExpiresAt);
                    break;
                case NotificationPreferencesSet or ChannelNotificationsSet or ThreadFollowed or ThreadUnfollowed:
                    NotificationWriteSide.Add(batch, userId, e);
                    break;
                case UserDeactivated:
                    batch.Add("update ws_users set deactivated = true where user_id = $1", userId);
                    batch.Add(Sessions.RevokeAllSql, userId, null);
                    break;
                case UserReactivated:
                    batch.Add("update ws_users set deactivated = false where user_id = $1", userId);
                    break;
                default:
                    throw new UnknownEventException("user", e);
            }
        }
        await batch.ExecuteNonQueryAsync(ct);
    }
}
