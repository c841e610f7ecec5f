using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using Npgsql;

namespace EventSourcedChat.ReadModels.History;

/// <summary>
/// Reads the history projection (schema <c>rm_history</c>). Every page is a range scan of one index: top-level pages
/// of the partial index <c>messages_top_level (channel_id, seq)</c>, thread pages of
/// <c>messages_replies (channel_id, thread_root_seq, seq)</c>; the limit applies before reactions are grouped, so each
/// page costs one probe of the reactions' primary key per message.
/// </summary>
public static class HistoryStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Wraps a limited selection of messages (alias m) with their grouped reactions, ordered by first reaction, their pin
    // and their files (one probe of files_message each).
    private static string WithReactions(string selection, string order, string orderBy = "m.seq") => $"""
        select m.channel_id, m.seq, m.user_id, m.text, m.created_at, m.edited_at, m.deleted, m.thread_root_seq,
               m.reply_count, m.last_reply_at, rx.reactions, pin.pinned_by, pin.pinned_at, fx.files
          from ({selection}) m
          left join rm_history.pins pin on pin.channel_id = m.channel_id and pin.seq = m.seq
         cross join lateral (
            select coalesce(json_agg(json_build_object('emoji', g.emoji, 'count', g.n, 'userIds', g.user_ids)
                                     order by g.first_seq, g.emoji), '[]')::text as reactions
              from (select r.emoji, count(*) as n, array_agg(r.user_id order by r.reacted_seq, r.user_id) as user_ids,
                           min(r.reacted_seq) as first_seq
                      from rm_history.reactions r
                     where r.channel_id = m.channel_id and r.seq = m.seq
                     group by r.emoji) g) rx
         cross join lateral (
            select coalesce(json_agg(json_build_object('fileId', f.file_id, 'name', f.name, 'size', f.size,
                                                       'contentType', f.content_type, 'sha256', f.sha256,
                                                       'width', f.width, 'height', f.height, 'thumbnail', f.thumbnail)
                                     order by f.ordinal), '[]')::text as files
              from rm_history.files f
             where f.channel_id = m.channel_id and f.seq = m.seq) fx
         order by {orderBy} {order}
        """;

    private static readonly string Before = WithReactions("""
        select * from rm_history.messages
         where channel_id = $1 and thread_root_seq is null and seq < $2
         order by seq desc limit $3
        """, "desc");

    private static readonly string After = WithReactions("""
        select * from rm_history.messages
         where channel_id = $1 and thread_root_seq is null and seq > $2
         order by seq limit $3
        """, "asc");

    private static readonly string One = WithReactions(
        "select * from rm_history.messages where channel_id = $1 and seq = $2", "asc");

    private static readonly string Replies = WithReactions("""
        select * from rm_history.messages
         where channel_id = $1 and thread_root_seq = $2 and seq > $3
         order by seq limit $4
        """, "asc");

    // The pins of a channel, newest pin first: a scan of pins_newest, then one message probe per pin.
    private static readonly string Pins = WithReactions("""
        select m.*, p.pinned_seq from rm_history.pins p
          join rm_history.messages m on m.channel_id = p.channel_id and m.seq = p.seq
         where p.channel_id = $1
         order by p.pinned_seq desc limit $2
        """, "desc", "m.pinned_seq");

    /// <summary>The channel's pinned messages, newest pin first.</summary>
    public static async Task<PinnedMessages> PinsAsync(NpgsqlDataSource db, string channelId, int limit, CancellationToken ct) =>
        new(await ReadAsync(db, Pins, ct, channelId, limit));

    /// <summary>Top-level messages before <paramref name="before"/> (newest first), or after <paramref name="after"/> (oldest first).</summary>
    public static async Task<MessagePage> PageAsync(
        NpgsqlDataSource db, string channelId, long? before, long? after, int limit, CancellationToken ct)
    {
        var messages = after is { } a
            ? await ReadAsync(db, After, ct, channelId, a, limit + 1)
            : await ReadAsync(db, Before, ct, channelId, before ?? long.MaxValue, limit + 1);
        var hasMore = messages.Count > limit;
        return new MessagePage(Trim(messages, limit), hasMore);
    }

    public static async Task<MessageView?> FindAsync(NpgsqlDataSource db, string channelId, long seq, CancellationToken ct) =>
        (await ReadAsync(db, One, ct, channelId, seq)).SingleOrDefault();

    /// <summary>Replies of the thread rooted at <paramref name="rootSeq"/> after <paramref name="after"/>, oldest first.</summary>
    public static async Task<(IReadOnlyList<MessageView> Replies, bool HasMore)> RepliesAsync(
        NpgsqlDataSource db, string channelId, long rootSeq, long after, int limit, CancellationToken ct)
    {
        var replies = await ReadAsync(db, Replies, ct, channelId, rootSeq, after, limit + 1);
        var hasMore = replies.Count > limit;
        return (Trim(replies, limit), hasMore);
    }

    private static List<MessageView> Trim(List<MessageView> rows, int limit)
    {
        if (rows.Count > limit)
        {
            rows.RemoveRange(limit, rows.Count - limit);
        }
        return rows;
    }

    private static async Task<List<MessageView>> ReadAsync(NpgsqlDataSource db, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = db.CreateCommand(sql);
        foreach (var arg in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<MessageView>();
        while (await r.ReadAsync(ct))
        {
            rows.Add(new MessageView(
                ChannelId: r.GetString(0),
                Seq: r.GetInt64(1),
                UserId: r.GetString(2),
                Text: r.GetString(3),
                CreatedAt: r.GetFieldValue<DateTimeOffset>(4),
                EditedAt: r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5),
                Deleted: r.GetBoolean(6),
                ThreadRootSeq: r.IsDBNull(7) ? null : r.GetInt64(7),
                ReplyCount: r.GetInt32(8),
                LastReplyAt: r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
                Reactions: JsonSerializer.Deserialize<List<ReactionGroup>>(r.GetString(10), Json) ?? [],
                Pinned: !r.IsDBNull(11),
                PinnedBy: r.IsDBNull(11) ? null : r.GetString(11),
                PinnedAt: r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12),
                Files: JsonSerializer.Deserialize<List<SharedFile>>(r.GetString(13), Json) ?? []));
        }
        return rows;
    }
}
