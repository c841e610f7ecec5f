using System.Runtime.CompilerServices;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using EventSourcedChat.ReadModels.History;
using Npgsql;

namespace EventSourcedChat.ReadModels.Audit;

/// <summary>
/// The messages of a channel as of a position, one at a time, in seq order, with memory that does not grow with the
/// channel. A message's state depends on later events (edits, deletions, reactions, replies), so PostgreSQL sorts the
/// channel's message events by the message they change: each <c>message.posted</c> keys its own message (and, for a
/// reply, its thread's root); an edit, deletion or reaction keys the message whose seq it names; the deletion of a reply
/// also keys its root. Rows come ordered by <c>(message, reply, version)</c> through a server-side cursor in batches
/// of <see cref="Batch"/>, so each message is folded from its own rows, written, and forgotten: what is held is one
/// message with its reactions. The sort runs in PostgreSQL (spilling to disk past <c>work_mem</c>).
/// </summary>
public static class AsOfMessages
{
    public const int Batch = 2_000;

    private static readonly string Posted = EventTypes.StoredTypeOf(typeof(MessagePosted));
    private static readonly string Deleted = EventTypes.StoredTypeOf(typeof(MessageDeleted));
    private static readonly string[] MessageTypes =
    [
        Posted, EventTypes.StoredTypeOf(typeof(MessageEdited)), Deleted,
        EventTypes.StoredTypeOf(typeof(ReactionAdded)), EventTypes.StoredTypeOf(typeof(ReactionRemoved)),
        EventTypes.StoredTypeOf(typeof(MessagePinned)), EventTypes.StoredTypeOf(typeof(MessageUnpinned)),
    ];

    // $1 stream, $2 last seq, $3 instant, $4 after seq, $5 posted type, $6 deleted type, $7 message types.
    // reply = 0: an event of the message itself; reply = r: reply r of the thread rooted at the message (its post, then its deletion).
    private static readonly string Declare = $"""
        declare as_of no scroll cursor for
        select k.message, k.reply, e.version, e.type, e.data::text, e.created_at
          from {LogSql.StreamEvents("$1")} e
         cross join lateral (
               select e.version as message, 0::bigint as reply where e.type = $5
               union all
               select (e.data->>'seq')::bigint, 0 where e.type <> $5
               union all
               select (e.data->>'threadRootSeq')::bigint, e.version
                where e.type = $5 and jsonb_typeof(e.data->'threadRootSeq') = 'number'
               union all
               select (p.data->>'threadRootSeq')::bigint, p.version
                 from {LogSql.StreamEvents("$1")} p
                where e.type = $6 and p.version = (e.data->>'seq')::bigint
                  and p.type = $5 and jsonb_typeof(p.data->'threadRootSeq') = 'number') k
         where e.version <= $2 and e.created_at <= $3 and e.type = any($7) and k.message > $4
         order by k.message, k.reply, e.version
        """;

    private sealed class Message(long seq, MessagePosted posted, DateTimeOffset at)
    {
        public long Seq { get; } = seq;
        public string UserId { get; } = posted.UserId;
        public string Text { get; set; } = posted.Text;
        public DateTimeOffset CreatedAt { get; } = at;
        public DateTimeOffset? EditedAt { get; set; }
        public bool Deleted { get; set; }
        public long? ThreadRootSeq { get; } = posted.ThreadRootSeq;
        public int ReplyCount { get; set; }
        public DateTimeOffset? LastReplyAt { get; set; }
        public List<(string Emoji, string UserId, long ReactedSeq)> Reactions { get; } = [];
        public (string By, DateTimeOffset At)? Pin { get; set; }
        public IReadOnlyList<SharedFile> Files { get; set; } = posted.Files ?? [];

        // The reply being read: its seq, when it was posted, whether it is still live.
        public long Reply { get; set; }
        public DateTimeOffset ReplyAt { get; set; }
        public bool ReplyLive { get; set; }

        /// <summary>Counts the reply just read; replies come in seq order, so the last live one is the latest.</summary>
        public void CloseReply()
        {
            if (Reply != 0 && ReplyLive)
            {
                ReplyCount++;
                LastReplyAt = ReplyAt;
            }
            Reply = 0;
        }
    }

    /// <summary>The messages with seq after <paramref name="afterSeq"/> as of (<paramref name="toSeq"/>, <paramref name="at"/>), in seq order.</summary>
    public static async IAsyncEnumerable<MessageView> ReadAsync(
        NpgsqlDataSource db, string channelId, DateTimeOffset at, long toSeq, long afterSeq, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        await using (var declare = new NpgsqlCommand(Declare, conn, tx))
        {
            declare.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StreamNames.Channel(channelId) });
            declare.Parameters.Add(new NpgsqlParameter<long> { TypedValue = toSeq });
            declare.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
            declare.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterSeq });
            declare.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Posted });
            declare.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Deleted });
            declare.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = MessageTypes });
            await declare.ExecuteNonQueryAsync(ct);
        }
        // The first fetch waits for the sort: as long as the export of the whole channel may take.
        await using var fetch = new NpgsqlCommand($"fetch {Batch} from as_of", conn, tx) { CommandTimeout = 600 };
        Message? current = null;
        var group = long.MinValue;
        while (true)
        {
            var rows = 0;
            await using (var r = await fetch.ExecuteReaderAsync(ct))
            {
                while (await r.ReadAsync(ct))
                {
                    rows++;
                    var (message, reply, version) = (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
                    if (message != group)
                    {
                        if (current is not null)
                        {
                            yield return Close(channelId, current);
                        }
                        (current, group) = (null, message);
                    }
                    if (reply == 0)
                    {
                        var e = EventTypes.Deserialize(r.GetString(3), r.GetString(4));
                        if (e is MessagePosted posted && version == message)
                        {
                            current = new Message(message, posted, r.GetFieldValue<DateTimeOffset>(5));
                        }
                        else if (current is not null)
                        {
                            Apply(current, version, r.GetFieldValue<DateTimeOffset>(5), e);
                        }
                    }
                    else if (current is not null && reply != current.Reply)
                    {
                        current.CloseReply();
                        (current.Reply, current.ReplyAt, current.ReplyLive) = (reply, r.GetFieldValue<DateTimeOffset>(5), true);
                    }
                    else if (current is not null)
                    {
                        current.ReplyLive = false; // the reply's deletion
                    }
                }
            }
            if (rows < Batch)
            {
                break;
            }
        }
        if (current is not null)
        {
            yield return Close(channelId, current);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>The changes the history projection makes to one message.</summary>
    private static void Apply(Message m, long seq, DateTimeOffset at, object? e)
    {
        switch (e)
        {
            case MessageEdited ed when !m.Deleted:
                m.Text = ed.Text;
                m.EditedAt = at;
                break;
            case MessageDeleted when !m.Deleted:
                m.Deleted = true;
                m.Text = "";
                m.Reactions.Clear();
                m.Pin = null;
                m.Files = [];
                break;
            case MessageDeleted:
                m.Reactions.Clear();
                break;
            case ReactionAdded a when !m.Reactions.Any(x => x.Emoji == a.Emoji && x.UserId == a.UserId):
                m.Reactions.Add((a.Emoji, a.UserId, seq));
                break;
            case ReactionRemoved rr:
                m.Reactions.RemoveAll(x => x.Emoji == rr.Emoji && x.UserId == rr.UserId);
                break;
            case MessagePinned p when !m.Deleted && m.Pin is null:
                m.Pin = (p.By, at);
                break;
            case MessageUnpinned:
                m.Pin = null;
                break;
        }
    }

    private static MessageView Close(string channelId, Message m)
    {
        m.CloseReply();
        return new MessageView(
            channelId, m.Seq, m.UserId, m.Text, m.CreatedAt, m.EditedAt, m.Deleted, m.ThreadRootSeq, m.ReplyCount, m.LastReplyAt,
            m.Reactions
                .GroupBy(x => x.Emoji, StringComparer.Ordinal)
                .OrderBy(g => g.Min(x => x.ReactedSeq)).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new ReactionGroup(g.Key, g.Count(),
                    g.OrderBy(x => x.ReactedSeq).ThenBy(x => x.UserId, StringComparer.Ordinal).Select(x => x.UserId).ToList()))
                .ToList(),
            m.Pin is not null, m.Pin?.By, m.Pin?.At, m.Files);
    }
}
