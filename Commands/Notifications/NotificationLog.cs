using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Messages;
using EventSourcedChat.Contracts.Notifications;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>The checkpoint was not where this run left it (another worker, or the test reset, moved or deleted it).</summary>
public sealed class CheckpointMovedException() : Exception("The notification worker's checkpoint moved under it; reloading it.");

/// <summary>
/// The notification worker's fold of the log: one batch of events applied to its own tables (<c>nt_*</c>) in one
/// transaction that first moves its checkpoint, only from where this run left it (<see cref="CheckpointStore.Advance"/>),
/// so each event is applied once in effect. A post decides who is to be notified of it (one <c>nt_items</c> row per
/// person and message, ever); the digest sender mails them later (<see cref="DigestSender"/>).
/// </summary>
public sealed class NotificationLog(NpgsqlDataSource db, IUserPresence presence, NotificationSettings settings, TimeProvider time)
{
    /// <summary>The longest excerpt of a message kept for its mail.</summary>
    public const int ExcerptLength = 300;

    /// <summary>Applies <paramref name="batch"/>; the checkpoint moves from <paramref name="from"/> to the batch's end.</summary>
    public async Task ApplyAsync(EventBatch batch, LogCursor from, CancellationToken ct)
    {
        var events = batch.Events
            .Select(e => (Recorded: e, Event: EventTypes.Deserialize(e.Type, e.Data)))
            .Where(e => e.Event is not null)
            .ToList();
        var here = await ActiveForHereAsync(
            events.Select(e => e.Event).OfType<MessagePosted>().Where(p => p.Mentions.Here), events.Select(e => e.Event).OfType<MemberJoined>(), ct);
        var oldest = time.GetUtcNow() - settings.MaxAge;
        await Transactions.RunAsync(db, async (tx, token) =>
        {
            await using var sql = new NpgsqlBatch(tx.Connection, tx);
            var advance = CheckpointStore.Advance(NotificationNames.Checkpoint, from, batch.Checkpoint);
            sql.BatchCommands.Add(Sql.GenericPlans());
            sql.BatchCommands.Add(advance);
            foreach (var (recorded, e) in events)
            {
                Add(sql, recorded, e!, here, oldest);
            }
            // The same few statement texts every time: prepared once per physical connection, PostgreSQL parses them once
            // (planning the recipients' statement took 0.7 ms a post, more than running it: pg_stat_statements, Run 8).
            await sql.PrepareAsync(token);
            await sql.ExecuteNonQueryAsync(token);
            if (advance.RecordsAffected != 1)
            {
                throw new CheckpointMovedException();
            }
            return true;
        }, ct);
    }

    /// <summary>
    /// The members of the channels <paramref name="posts"/> said <c>@here</c> in who are active now: those stored, and
    /// those who join in this batch (read before the batch is applied, the table does not have them yet). A superset is
    /// fine: each post's statement keeps only who is a member at that point of the log.
    /// </summary>
    private async Task<HashSet<string>> ActiveForHereAsync(IEnumerable<MessagePosted> posts, IEnumerable<MemberJoined> joins, CancellationToken ct)
    {
        var channels = posts.Select(p => p.ChannelId).Distinct().ToArray();
        if (channels.Length == 0)
        {
            return [];
        }
        await using var cmd = db.Command("select distinct user_id from nt_members where channel_id = any($1)", (object)channels);
        var members = joins.Where(j => channels.Contains(j.ChannelId)).Select(j => j.UserId).ToList();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                members.Add(r.GetString(0));
            }
        }
        var states = await presence.ReadAsync([.. members.Distinct()]);
        return [.. states.Where(s => s.Value == IUserPresence.Active).Select(s => s.Key)];
    }

    private void Add(NpgsqlBatch sql, RecordedEvent recorded, object e, HashSet<string> activeNow, DateTimeOffset oldest)
    {
        switch (e)
        {
            case WorkspaceCreated w:
                sql.Add("insert into nt_workspaces (workspace_id, name) values ($1, $2) on conflict (workspace_id) do update set name = excluded.name",
                    w.WorkspaceId, w.Name);
                break;
            case ChannelCreated c:
                sql.Add("insert into nt_channels (channel_id, workspace_id, name, kind) values ($1, $2, $3, $4) on conflict do nothing",
                    c.ChannelId, c.WorkspaceId, c.Name, c.Kind);
                break;
            case ChannelRenamed c:
                sql.Add("update nt_channels set name = $2 where channel_id = $1", c.ChannelId, c.Name);
                break;
            case MemberJoined m:
                sql.Add("insert into nt_members (channel_id, user_id) values ($1, $2) on conflict do nothing", m.ChannelId, m.UserId);
                break;
            case MemberLeft m:
                sql.Add("delete from nt_members where channel_id = $1 and user_id = $2", m.ChannelId, m.UserId);
                sql.Add(Drop + " and channel_id = $2", m.UserId, m.ChannelId);
                break;
            case UserRegistered u:
                sql.Add("insert into nt_users (user_id, email, display_name) values ($1, $2, $3) on conflict do nothing", u.UserId, u.Email, u.DisplayName);
                break;
            case UserProfileUpdated p:
                sql.Add("update nt_users set display_name = $2 where user_id = $1", p.UserId, p.DisplayName);
                break;
            case NotificationPreferencesSet p:
                sql.Add("""
                    update nt_users set email_enabled = $2, digest_minutes = $3, dnd_from = $4, dnd_to = $5, dnd_time_zone = $6, snooze_until = $7
                     where user_id = $1
                    """, p.UserId, p.Email, p.DigestMinutes, p.DndFrom, p.DndTo, p.DndTimeZone, p.SnoozeUntil?.ToUniversalTime());
                if (!p.Email)
                {
                    sql.Add(Drop, p.UserId);
                }
                break;
            case ChannelNotificationsSet c:
                sql.Add("""
                    insert into nt_channel_settings (user_id, channel_id, level, muted) values ($1, $2, $3, $4)
                    on conflict (user_id, channel_id) do update set level = excluded.level, muted = excluded.muted
                    """, c.UserId, c.ChannelId, c.Level, c.Muted);
                if (c.Muted || c.Level == NotificationNames.LevelNone)
                {
                    sql.Add(Drop + " and channel_id = $2", c.UserId, c.ChannelId);
                }
                break;
            case ThreadFollowed f:
                sql.Add(Follow, f.ChannelId, f.RootSeq, f.UserId, true);
                break;
            case ThreadUnfollowed u:
                sql.Add(Follow, u.ChannelId, u.RootSeq, u.UserId, false);
                break;
            case ReadMarkerMoved m:
                sql.Add("update nt_items set state = 'read' where user_id = $1 and channel_id = $2 and seq <= $3 and state = 'pending'",
                    m.UserId, m.ChannelId, m.Seq);
                break;
            case MessageDeleted d:
                sql.Add("update nt_items set state = 'dropped' where channel_id = $1 and seq = $2 and state = 'pending'", d.ChannelId, d.Seq);
                break;
            case MessagePosted p:
                if (recorded.CreatedAt >= oldest)
                {
                    AddItems(sql, recorded, p, activeNow);
                }
                // Authors follow their threads, and repliers the thread they reply in (again, after an unfollow).
                sql.Add(p.ThreadRootSeq is null
                        ? "insert into nt_follows (channel_id, root_seq, user_id, following) values ($1, $2, $3, $4) on conflict do nothing"
                        : Follow,
                    p.ChannelId, p.ThreadRootSeq ?? recorded.Version, p.UserId, true);
                break;
        }
    }

    private const string Drop = "update nt_items set state = 'dropped' where user_id = $1 and state = 'pending'";

    private const string Follow = """
        insert into nt_follows (channel_id, root_seq, user_id, following) values ($1, $2, $3, $4)
        on conflict (channel_id, root_seq, user_id) do update set following = excluded.following
        """;

    /// <summary>
    /// The <c>nt_items</c> of post <c>$2</c> in channel <c>$1</c> by <c>$3</c>: the candidates of each reason, each
    /// checked for membership, then the strongest reason of each kept and their settings read, each with one lookup of
    /// the whole key (fenced by its <c>limit</c>, so that a generic plan cannot turn it into a scan of the table).
    /// </summary>
    /// <remarks>
    /// Only a DM and <c>@channel</c> read the channel's member list. A CTE of the members shared by every reason would
    /// be materialized by PostgreSQL, and every post would read every member of its channel (measured: 1,000 rows and
    /// 0.77 ms of the database's time a post in a channel of 1,000, pg_stat_statements).
    /// </remarks>
    internal const string RecipientsSql = """
        with ch as (select workspace_id, kind from nt_channels where channel_id = $1),
        candidates as (
            select m.user_id, 'dm' as reason, 1 as rank from nt_members m
             where m.channel_id = $1 and exists (select 1 from ch where ch.kind = 'dm')
            union all select x.id, 'mention', 2 from unnest($6::text[]) as x(id)
            union all select m.user_id, 'channel', 3 from nt_members m where $7 and m.channel_id = $1
            union all select x.id, 'here', 3 from unnest($8::text[]) as x(id)
            union all select f.user_id, 'thread', 4 from nt_follows f where f.channel_id = $1 and f.root_seq = $9 and f.following
            union all select s.user_id, 'message', 5 from nt_channel_settings s where s.channel_id = $1 and s.level = 'all'),
        best as (
            select distinct on (c.user_id) c.user_id, c.reason
              from candidates c
              cross join lateral (select 1 from nt_members m where m.channel_id = $1 and m.user_id = c.user_id limit 1) member
             where c.user_id <> $3
             order by c.user_id, c.rank)
        insert into nt_items (user_id, channel_id, seq, workspace_id, reason, author_id, excerpt, posted_at, due_at)
        select b.user_id, $1, $2, ch.workspace_id, b.reason, $3, $4, $5,
               $5 + case when u.digest_minutes > 0 then make_interval(mins => u.digest_minutes) else make_interval(secs => $10) end
          from best b cross join ch
          cross join lateral (select u.digest_minutes, u.email_enabled from nt_users u where u.user_id = b.user_id limit 1) u
          left join lateral (select s.muted, s.level from nt_channel_settings s where s.user_id = b.user_id and s.channel_id = $1 limit 1) s on true
         where u.email_enabled and not coalesce(s.muted, false) and coalesce(s.level, 'mentions') <> 'none'
        on conflict do nothing
        """;

    /// <summary>
    /// Who is to be told of a post, each once, for the strongest reason: a DM's other members, those mentioned, every
    /// member for <c>@channel</c>, the members active now for <c>@here</c>, the thread's followers for a reply, and
    /// members whose level for the channel is <c>all</c>. Never the author; not those with mail off, the channel muted
    /// or its level <c>none</c>. Each is due after that person's digest delay.
    /// </summary>
    private void AddItems(NpgsqlBatch sql, RecordedEvent recorded, MessagePosted p, HashSet<string> activeNow)
    {
        var excerpt = MessageText.Plain(p.Text);
        if (excerpt.Length > ExcerptLength)
        {
            excerpt = excerpt[..(ExcerptLength - 1)] + "…";
        }
        sql.Add(RecipientsSql,
            p.ChannelId, recorded.Version, p.UserId, excerpt, recorded.CreatedAt.ToUniversalTime(),
            p.Mentions.UserIds.ToArray(), p.Mentions.Channel,
            p.Mentions.Here ? activeNow.ToArray() : Array.Empty<string>(),
            p.ThreadRootSeq ?? 0L, settings.DefaultDigest.TotalSeconds);
    }
}
