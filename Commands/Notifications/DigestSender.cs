using System.Globalization;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Mail;
using EventSourcedChat.Contracts.Notifications;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>
/// Turns due notifications into digest mails: for each person whose oldest pending item has waited their digest delay and
/// who had no mail within it, in one transaction (their <c>nt_users</c> row locked): items they read meanwhile are set
/// aside, the rest (every pending one, also those not due yet: it is a digest) go into one mail in the outbox with the cause <c>notify-digest:{userId}:{n}</c> (unique: a second node or a retry cannot queue it
/// twice) and are marked sent in digest n. Someone active when their digest is due gets none (their pending items are
/// <c>seen</c>); a snooze or do-not-disturb window holds the digest back until it ends; presence unknown waits.
/// </summary>
public sealed class DigestSender(
    NpgsqlDataSource db, IUserPresence presence, NotificationSettings settings, MailSettings mail, UnsubscribeLinks links, TimeProvider time)
{
    private const int UsersPerRound = 100;

    /// <summary>One round: answers how many people were considered.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var due = await DueUsersAsync(now, ct);
        if (due.Count == 0)
        {
            return 0;
        }
        var states = await presence.ReadAsync(due);
        foreach (var userId in due)
        {
            var state = states.GetValueOrDefault(userId, IUserPresence.Unknown);
            if (state == IUserPresence.Unknown)
            {
                continue;
            }
            await Transactions.RunAsync(db, (tx, token) => state == IUserPresence.Active
                ? SetAsideAsync(tx, userId, "seen", token)
                : DigestAsync(tx, userId, now, token), ct);
        }
        return due.Count;
    }

    private async Task<List<string>> DueUsersAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            select distinct i.user_id from nt_items i join nt_users u on u.user_id = i.user_id
             where i.state = 'pending' and i.due_at <= $1
               and (u.last_mail_at is null
                    or u.last_mail_at + case when u.digest_minutes > 0 then make_interval(mins => u.digest_minutes)
                                             else make_interval(secs => $2) end <= $1)
             limit $3
            """, now, settings.DefaultDigest.TotalSeconds, UsersPerRound);
        var users = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            users.Add(r.GetString(0));
        }
        return users;
    }

    private static async Task<bool> SetAsideAsync(NpgsqlTransaction tx, string userId, string state, CancellationToken ct)
    {
        await tx.ExecuteAsync("update nt_items set state = $2 where user_id = $1 and state = 'pending'", ct, userId, state);
        return true;
    }

    private async Task<bool> DigestAsync(NpgsqlTransaction tx, string userId, DateTimeOffset now, CancellationToken ct)
    {
        string email, name;
        bool enabled;
        int digests;
        DateTimeOffset? heldUntil;
        await using (var cmd = new NpgsqlCommand("""
            select email, display_name, email_enabled, digests, dnd_from, dnd_to, dnd_time_zone, snooze_until
              from nt_users where user_id = $1 for update
            """, tx.Connection, tx))
        {
            cmd.Parameters.AddWithValue(userId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return false;
            }
            (email, name, enabled, digests) = (r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetInt32(3));
            heldUntil = HeldUntil(now, r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
                r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7));
        }
        if (!enabled)
        {
            return await SetAsideAsync(tx, userId, "dropped", ct);
        }
        if (heldUntil is { } until)
        {
            await tx.ExecuteAsync("update nt_items set due_at = greatest(due_at, $2) where user_id = $1 and state = 'pending'", ct, userId, until);
            return true;
        }
        var (unread, read) = await ItemsAsync(tx, userId, ct);
        if (read.Count > 0)
        {
            await MarkAsync(tx, userId, read, "read", null, ct);
        }
        if (unread.Count == 0)
        {
            return true;
        }
        var n = digests + 1;
        unread = await WithNamesAsync(tx, unread, ct);
        var message = DigestMail.Compose($"notify-digest:{userId}:{n.ToString(CultureInfo.InvariantCulture)}", email, name, unread,
            mail.PublicUrl + "/", links.LinkFor(userId));
        await MailOutbox.EnqueueAsync(tx, message, now, ct);
        await MarkAsync(tx, userId, unread, "sent", n, ct);
        await tx.ExecuteAsync("update nt_users set digests = $2, last_mail_at = $3 where user_id = $1", ct, userId, n, now);
        return true;
    }

    /// <summary>The person's pending items (a digest carries them all), those not read yet (by the write side's read marker, which is current) and those read.</summary>
    private static async Task<(List<DigestItem> Unread, List<DigestItem> Read)> ItemsAsync(
        NpgsqlTransaction tx, string userId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            select i.channel_id, i.seq, coalesce(w.name, ''), coalesce(c.name, ''), coalesce(c.kind, 'public'), i.reason,
                   coalesce(a.display_name, 'Someone'), i.excerpt, i.posted_at, coalesce(r.seq, 0) >= i.seq
              from nt_items i
              left join nt_workspaces w on w.workspace_id = i.workspace_id
              left join nt_channels c on c.channel_id = i.channel_id
              left join nt_users a on a.user_id = i.author_id
              left join ws_read_markers r on r.user_id = i.user_id and r.channel_id = i.channel_id
             where i.user_id = $1 and i.state = 'pending'
             order by w.name, i.workspace_id, i.posted_at, i.seq
               for update of i
            """, tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        var (unread, read) = (new List<DigestItem>(), new List<DigestItem>());
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var item = new DigestItem(r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
                r.GetString(6), r.GetString(7), r.GetFieldValue<DateTimeOffset>(8));
            (r.GetBoolean(9) ? read : unread).Add(item);
        }
        return (unread, read);
    }

    /// <summary>The items with each mention (<c>&lt;@id&gt;</c>) in their excerpts shown as <c>@display name</c>.</summary>
    private static async Task<List<DigestItem>> WithNamesAsync(NpgsqlTransaction tx, List<DigestItem> items, CancellationToken ct)
    {
        var ids = items.SelectMany(i => DigestMail.MentionedIds(i.Excerpt)).Distinct().ToArray();
        if (ids.Length == 0)
        {
            return items;
        }
        await using var cmd = new NpgsqlCommand("select user_id, display_name from nt_users where user_id = any($1)", tx.Connection, tx);
        cmd.Parameters.AddWithValue(ids);
        var names = new Dictionary<string, string>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                names[r.GetString(0)] = r.GetString(1);
            }
        }
        return [.. items.Select(i => i with { Excerpt = DigestMail.NameMentions(i.Excerpt, names) })];
    }

    private static Task MarkAsync(NpgsqlTransaction tx, string userId, List<DigestItem> items, string state, int? digest, CancellationToken ct) =>
        tx.ExecuteAsync("""
            update nt_items i set state = $2, digest = $3
              from unnest($4::text[], $5::bigint[]) as m(channel_id, seq)
             where i.user_id = $1 and i.channel_id = m.channel_id and i.seq = m.seq and i.state = 'pending'
            """, ct, userId, state, digest, items.Select(i => i.ChannelId).ToArray(), items.Select(i => i.Seq).ToArray());

    /// <summary>
    /// Until when a digest due at <paramref name="now"/> waits: the end of a snooze, or of the do-not-disturb window
    /// (local <c>HH:mm</c> times in a time zone; a window may span midnight); null when it may go now.
    /// </summary>
    public static DateTimeOffset? HeldUntil(DateTimeOffset now, string? dndFrom, string? dndTo, string? timeZone, DateTimeOffset? snoozeUntil)
    {
        if (snoozeUntil is { } snooze && snooze > now)
        {
            return snooze.ToUniversalTime();
        }
        if (dndFrom is null || dndTo is null || timeZone is null
            || !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone)
            || !TimeOnly.TryParseExact(dndFrom, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var from)
            || !TimeOnly.TryParseExact(dndTo, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var to)
            || from == to)
        {
            return null;
        }
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var t = TimeOnly.FromDateTime(local.DateTime);
        var inside = from < to ? t >= from && t < to : t >= from || t < to;
        if (!inside)
        {
            return null;
        }
        var endDay = from < to || t < to ? local.Date : local.Date.AddDays(1);
        var end = endDay + to.ToTimeSpan();
        return new DateTimeOffset(end, zone.GetUtcOffset(end)).ToUniversalTime();
    }
}
