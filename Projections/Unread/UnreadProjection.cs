using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.Projections.Unread;

/// <summary>
/// Unread and mention counts per (user, channel) with O(1) writes per message, whatever the member count
/// (invariant 9). Nothing is written per member when a message is posted; a member's counts are computed at query
/// time from per-channel counters and the member's read marker.
/// </summary>
/// <remarks>
/// <para>Tables (schema <c>rm_unread</c>):</para>
/// <list type="bullet">
/// <item><c>channel_counters(channel_id, top_level_count)</c>: top-level messages posted so far (thread replies excluded).</item>
/// <item><c>author_counters(channel_id, author_id, top_level_count)</c>: the same per author, so a reader's own
/// messages after the marker are subtracted in O(1) (a counter difference) instead of counting them.</item>
/// <item><c>channel_messages(channel_id, seq, author_id, ordinal, author_ordinal, broadcast, deleted)</c>: one row per
/// top-level message; <c>ordinal</c> is the channel counter after it, <c>author_ordinal</c> the author's counter after it.</item>
/// <item><c>mentions(channel_id, seq, user_id)</c>: one row per <c>&lt;@user&gt;</c> mention in a top-level message or a
/// thread reply (the author mentioning themselves is not stored). A write per mentioned user, never per member.</item>
/// <item><c>read_markers(user_id, channel_id, seq)</c>: written only when that user moves their marker
/// (<see cref="ReadMarkerMoved"/>, in the user stream, so every device of the user sees the same counts).</item>
/// <item>The threads' tables (<see cref="ThreadTables"/>, in <c>UnreadThreads.cs</c>): a row per reply, a row per
/// thread, and who follows it.</item>
/// </list>
/// <para>Writes per posted message: one counter upsert for the channel, one for the author, one message row, plus one row
/// per <c>&lt;@user&gt;</c> mention; per thread reply: its row, its thread's row, two follow rows and its mentions.
/// Deletions flag the row and drop its mention rows. Edits replace the mention rows and the broadcast flag.</para>
/// <para>For a reader U with baseline B = max(marker seq, joined_seq from rm_directory):
/// unread = (channel counter − ordinal at B) − (U's author counter − U's author ordinal at B) − deleted messages of
/// others after B. "Ordinal at B" is one index probe (the last top-level row with seq ≤ B). Deleted messages are
/// excluded from both counts: the deleted ones after B are counted through a partial index bounded by the deletions
/// in the reader's unread window (rare). mention = distinct top-level messages after B, not deleted, not by U, that
/// mention U or are <c>@channel</c>/<c>@here</c> (partial index on broadcast rows), plus the thread replies after B
/// that mention U by name (a reply's <c>@channel</c>/<c>@here</c> does not count). <c>@here</c> counts like
/// <c>@channel</c> until presence exists.</para>
/// </remarks>
public sealed partial class UnreadProjection : Projection
{
    public const string ProjectionName = "unread";

    public override string Name => ProjectionName;

    public override string CreateSql => ChannelTables + ThreadTables;

    private const string ChannelTables = """
        create table if not exists channel_counters (
            channel_id text primary key, top_level_count bigint not null);
        create table if not exists author_counters (
            channel_id text not null, author_id text not null, top_level_count bigint not null,
            primary key (channel_id, author_id));
        create table if not exists channel_messages (
            channel_id text not null, seq bigint not null, author_id text not null,
            ordinal bigint not null, author_ordinal bigint not null,
            broadcast boolean not null, deleted boolean not null default false,
            primary key (channel_id, seq));
        create index if not exists channel_messages_author on channel_messages (channel_id, author_id, seq);
        create index if not exists channel_messages_broadcast on channel_messages (channel_id, seq) where broadcast;
        create index if not exists channel_messages_deleted on channel_messages (channel_id, seq) where deleted;
        create table if not exists mentions (
            channel_id text not null, seq bigint not null, user_id text not null,
            primary key (channel_id, seq, user_id));
        create index if not exists mentions_user on mentions (user_id, channel_id, seq);
        create table if not exists read_markers (
            user_id text not null, channel_id text not null, seq bigint not null,
            primary key (user_id, channel_id));
        """;

    /// <summary>
    /// Top-level posts: the channel and author counters rise by the run's count once, and each row's ordinals are the
    /// counters after it (the final counter less the rows after it in the run). <c>mentioned</c> is the comma-separated
    /// mentioned user ids (ids hold no commas).
    /// </summary>
    private static readonly RowStatement Posted = new("""
        with posted as materialized (select * from {rows}),
        c as (
            insert into channel_counters as t (channel_id, top_level_count)
            select channel_id, count(*) from posted group by channel_id
            on conflict (channel_id) do update set top_level_count = t.top_level_count + excluded.top_level_count
            returning channel_id, top_level_count),
        a as (
            insert into author_counters as t (channel_id, author_id, top_level_count)
            select channel_id, author_id, count(*) from posted group by channel_id, author_id
            on conflict (channel_id, author_id) do update set top_level_count = t.top_level_count + excluded.top_level_count
            returning channel_id, author_id, top_level_count),
        m as (
            insert into mentions (channel_id, seq, user_id)
            select p.channel_id, p.seq, u from posted p, unnest(string_to_array(p.mentioned, ',')) u
             where u <> p.author_id
            on conflict do nothing)
        insert into channel_messages (channel_id, seq, author_id, ordinal, author_ordinal, broadcast)
        select p.channel_id, p.seq, p.author_id,
               c.top_level_count - (count(*) over (partition by p.channel_id) - row_number() over (partition by p.channel_id order by p.n)),
               a.top_level_count - (count(*) over (partition by p.channel_id, p.author_id)
                                    - row_number() over (partition by p.channel_id, p.author_id order by p.n)),
               p.broadcast
          from posted p
          join c on c.channel_id = p.channel_id
          join a on a.channel_id = p.channel_id and a.author_id = p.author_id
        """, ("channel_id", "text"), ("seq", "bigint"), ("author_id", "text"), ("broadcast", "boolean"), ("mentioned", "text"));

    public UnreadProjection()
    {
        On<MessagePosted>((e, c) =>
        {
            if (e.ThreadRootSeq is { } root)
            {
                ApplyReply(e, root, c); // replies are not unread in the channel; their mentions count
                return;
            }
            var mentions = e.Mentions ?? Mentions.None;
            c.Row(Posted, e.ChannelId, c.Seq, e.UserId, mentions.Channel || mentions.Here,
                mentions.UserIds is { Count: > 0 } users ? string.Join(',', users) : null);
        });
        On<MessageEdited>((e, c) =>
        {
            var mentions = e.Mentions ?? Mentions.None;
            c.Sql("delete from mentions where channel_id = $1 and seq = $2", e.ChannelId, e.Seq);
            c.Sql("update channel_messages set broadcast = $3 where channel_id = $1 and seq = $2 and not deleted",
                e.ChannelId, e.Seq, mentions.Channel || mentions.Here);
            if (mentions.UserIds is { Count: > 0 } users)
            {
                // Only live messages and replies have a row: tombstones get no mention rows.
                c.Sql("""
                    insert into mentions (channel_id, seq, user_id)
                    select m.channel_id, m.seq, u
                      from (select channel_id, seq, author_id from channel_messages where channel_id = $1 and seq = $2 and not deleted
                            union all
                            select channel_id, seq, author_id from thread_replies where channel_id = $1 and seq = $2 and not deleted) m,
                           unnest($3::text[]) u
                     where u <> m.author_id
                    on conflict do nothing
                    """, e.ChannelId, e.Seq, users.ToArray());
            }
        });
        On<MessageDeleted>((e, c) =>
        {
            c.Sql("update channel_messages set deleted = true where channel_id = $1 and seq = $2", e.ChannelId, e.Seq);
            c.Sql("update thread_replies set deleted = true where channel_id = $1 and seq = $2", e.ChannelId, e.Seq);
            c.Sql("delete from mentions where channel_id = $1 and seq = $2", e.ChannelId, e.Seq);
        });
        On<ReadMarkerMoved>((e, c) => c.Sql("""
            insert into read_markers as r (user_id, channel_id, seq) values ($1, $2, $3)
            on conflict (user_id, channel_id) do update set seq = greatest(r.seq, excluded.seq)
            """, e.UserId, e.ChannelId, e.Seq));
        OnThreadFollows();
    }
}
