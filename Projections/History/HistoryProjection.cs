using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.Projections.History;

/// <summary>
/// Channel history: one row per message (top-level and thread replies) keyed by <c>(channel_id, seq)</c>, and one row
/// per reaction <c>(channel_id, seq, emoji, user_id)</c>. The history queries page over it with index range scans.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A thread root's <c>reply_count</c> counts its live replies; <c>last_reply_at</c> is the time of its latest
/// live reply (null when none). Posting a reply increments the count and sets the time (O(1)); deleting a reply
/// decrements the count and recomputes the time from the latest remaining live reply (one backward index probe).</item>
/// <item>An edit sets <c>text</c> and <c>edited_at</c>. A delete keeps the row as a tombstone (<c>deleted</c>, empty
/// text) so pages stay stable, and drops the message's reactions: a tombstone shows nothing of what it was, and the
/// commands accept no reaction on a deleted message.</item>
/// <item>Reactions keep the seq of the event that added them, so groups and their users come back in the order the
/// reactions were made.</item>
/// <item>Pins: one row per pinned live message <c>(channel_id, seq)</c> with who pinned it, when, and the seq of the
/// pin (the order of the pins list, newest first). Unpinning or deleting the message removes the row.</item>
/// <item>Files: one row per file a message carries <c>(file_id, channel_id, seq)</c> with the metadata of the post, so
/// a file's download is for members of a channel it was shared in (<c>GET /v1/files/{fileId}</c>). Deleting the message
/// removes its rows: a deleted message's files are no longer handed out.</item>
/// </list>
/// </remarks>
public sealed class HistoryProjection : Projection
{
    public const string ProjectionName = "history";

    public override string Name => ProjectionName;

    public override string CreateSql => """
        create table if not exists messages (
            channel_id text not null, seq bigint not null, message_id text not null, user_id text not null,
            text text not null, created_at timestamptz not null, edited_at timestamptz,
            deleted boolean not null default false, thread_root_seq bigint,
            reply_count int not null default 0, last_reply_at timestamptz,
            primary key (channel_id, seq));
        create index if not exists messages_top_level on messages (channel_id, seq) where thread_root_seq is null;
        create index if not exists messages_replies on messages (channel_id, thread_root_seq, seq) where thread_root_seq is not null;
        create table if not exists reactions (
            channel_id text not null, seq bigint not null, emoji text not null, user_id text not null,
            reacted_seq bigint not null, reacted_at timestamptz not null,
            primary key (channel_id, seq, emoji, user_id));
        create table if not exists pins (
            channel_id text not null, seq bigint not null, pinned_by text not null, pinned_at timestamptz not null,
            pinned_seq bigint not null,
            primary key (channel_id, seq));
        create index if not exists pins_newest on pins (channel_id, pinned_seq desc);
        create table if not exists files (
            file_id text not null, channel_id text not null, seq bigint not null, ordinal int not null,
            name text not null, size bigint not null, content_type text not null, sha256 text not null,
            shared_by text not null, shared_at timestamptz not null,
            primary key (file_id, channel_id, seq));
        create index if not exists files_message on files (channel_id, seq);
        alter table files add column if not exists width int, add column if not exists height int,
            add column if not exists thumbnail jsonb;
        """;

    /// <summary>
    /// Posts and replies. Each root's count rises by its replies in the run and its time is that of the last of them; a
    /// root posted in the same run is inserted with them already counted (the statement cannot see its own inserts).
    /// </summary>
    private static readonly RowStatement Posted = new("""
        with posted as materialized (select * from {rows}),
        replies as (
            select channel_id, thread_root_seq as root, count(*) as k, (array_agg(created_at order by n desc))[1] as last_at
              from posted where thread_root_seq is not null group by channel_id, thread_root_seq),
        inserted as (
            insert into messages (channel_id, seq, message_id, user_id, text, created_at, thread_root_seq, reply_count, last_reply_at)
            select p.channel_id, p.seq, p.message_id, p.user_id, p.text, p.created_at, p.thread_root_seq, coalesce(x.k, 0), x.last_at
              from posted p left join replies x on x.channel_id = p.channel_id and x.root = p.seq)
        update messages m set reply_count = m.reply_count + x.k, last_reply_at = x.last_at
          from replies x
         where m.channel_id = x.channel_id and m.seq = x.root
           and not exists (select 1 from posted p where p.channel_id = x.channel_id and p.seq = x.root)
        """, ("channel_id", "text"), ("seq", "bigint"), ("message_id", "text"), ("user_id", "text"), ("text", "text"),
        ("created_at", "timestamptz"), ("thread_root_seq", "bigint"));

    public HistoryProjection()
    {
        On<MessagePosted>((e, c) =>
        {
            c.Row(Posted, e.ChannelId, c.Seq, e.MessageId, e.UserId, e.Text, c.At, e.ThreadRootSeq);
            if (e.Files is { Count: > 0 } files)
            {
                c.Sql("""
                    insert into files (file_id, channel_id, seq, ordinal, name, size, content_type, sha256, shared_by, shared_at,
                                       width, height, thumbnail)
                    select f.id, $1, $2, f.n, f.name, f.size, f.type, f.sha, $8, $9, f.width, f.height, f.thumbnail::jsonb
                      from unnest($3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $10::int[], $11::int[], $12::text[])
                           with ordinality as f(id, name, size, type, sha, width, height, thumbnail, n)
                    on conflict do nothing
                    """, e.ChannelId, c.Seq, files.Select(f => f.FileId).ToArray(), files.Select(f => f.Name).ToArray(),
                    files.Select(f => f.Size).ToArray(), files.Select(f => f.ContentType).ToArray(), files.Select(f => f.Sha256).ToArray(),
                    e.UserId, c.At, files.Select(f => f.Width).ToArray(), files.Select(f => f.Height).ToArray(),
                    files.Select(f => f.Thumbnail is null ? null : JsonSerializer.Serialize(f.Thumbnail, EventTypes.Json)).ToArray());
            }
        });
        On<MessageEdited>((e, c) => c.Sql(
            "update messages set text = $3, edited_at = $4 where channel_id = $1 and seq = $2 and not deleted",
            e.ChannelId, e.Seq, e.Text, c.At));
        On<MessageDeleted>((e, c) =>
        {
            // The root's count and time move only when this delete turned a live reply into a tombstone. The outer
            // statement sees the rows as they were before the CTE's update, hence the explicit exclusion of $2.
            c.Sql("""
                with tombstone as (
                    update messages set deleted = true, text = ''
                     where channel_id = $1 and seq = $2 and not deleted
                    returning thread_root_seq)
                update messages root
                   set reply_count = root.reply_count - 1,
                       last_reply_at = (select r.created_at from messages r
                                         where r.channel_id = $1 and r.thread_root_seq = root.seq
                                           and not r.deleted and r.seq <> $2
                                         order by r.seq desc limit 1)
                  from tombstone
                 where root.channel_id = $1 and root.seq = tombstone.thread_root_seq
                """, e.ChannelId, e.Seq);
            c.Sql("delete from reactions where channel_id = $1 and seq = $2", e.ChannelId, e.Seq);
            c.Sql("delete from pins where channel_id = $1 and seq = $2", e.ChannelId, e.Seq);
            c.Sql("delete from files where channel_id = $1 and seq = $2", e.ChannelId, e.Seq);
        });
        On<ReactionAdded>((e, c) => c.Sql("""
            insert into reactions (channel_id, seq, emoji, user_id, reacted_seq, reacted_at) values ($1, $2, $3, $4, $5, $6)
            on conflict (channel_id, seq, emoji, user_id) do nothing
            """, e.ChannelId, e.Seq, e.Emoji, e.UserId, c.Seq, c.At));
        On<ReactionRemoved>((e, c) => c.Sql(
            "delete from reactions where channel_id = $1 and seq = $2 and emoji = $3 and user_id = $4",
            e.ChannelId, e.Seq, e.Emoji, e.UserId));
        On<MessagePinned>((e, c) => c.Sql("""
            insert into pins (channel_id, seq, pinned_by, pinned_at, pinned_seq)
            select $1, $2, $3, $4, $5 where exists (select 1 from messages where channel_id = $1 and seq = $2 and not deleted)
            on conflict (channel_id, seq) do nothing
            """, e.ChannelId, e.Seq, e.By, c.At, c.Seq));
        On<MessageUnpinned>((e, c) => c.Sql("delete from pins where channel_id = $1 and seq = $2", e.ChannelId, e.Seq));
    }
}
