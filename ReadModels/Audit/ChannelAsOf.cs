using EventSourcedChat.Contracts.Events;
using EventSourcedChat.ReadModels.History;
using Npgsql;

namespace EventSourcedChat.ReadModels.Audit;

/// <summary>
/// A channel as it stood at an instant, rebuilt from its events (those stored at or before the instant, up to the
/// stream's head when asked): name, topic,
/// archived flag, members, and every message (top-level and replies, in seq order) shaped exactly as the history API
/// shows it (tombstones, reply counts, last reply times, reactions in the order they were made).
/// </summary>
/// <param name="Seq">The last seq the state includes (0 when the channel did not exist yet).</param>
public sealed record ChannelAsOf(
    string ChannelId, DateTimeOffset At, long Seq, string? Name, string? Kind, string? Topic, bool Archived,
    IReadOnlyList<string> Members, IReadOnlyList<MessageView> Messages);

public static class ChannelAsOfBuilder
{
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
        public List<long> Replies { get; } = [];
        public List<(string Emoji, string UserId, long ReactedSeq)> Reactions { get; } = [];
    }

    private sealed class State(string channelId)
    {
        public string ChannelId { get; } = channelId;
        public long Seq { get; set; }
        public string? Name { get; set; }
        public string? Kind { get; set; }
        public string? Topic { get; set; }
        public bool Archived { get; set; }
        public List<string> Members { get; } = [];
        public SortedDictionary<long, Message> Messages { get; } = [];
    }

    public static async Task<ChannelAsOf> BuildAsync(NpgsqlDataSource db, string channelId, DateTimeOffset at, long toSeq, CancellationToken ct)
    {
        var state = new State(channelId);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            select version, type, data::text, created_at from es_events
             where stream_id = $1 and version > $2 and version <= $4 and created_at <= $3
             order by version limit 2000
            """, conn);
        var after = new NpgsqlParameter<long> { TypedValue = 0 };
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"channel-{channelId}" });
        cmd.Parameters.Add(after);
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = toSeq });
        while (true)
        {
            var rows = 0;
            await using (var r = await cmd.ExecuteReaderAsync(ct))
            {
                while (await r.ReadAsync(ct))
                {
                    rows++;
                    after.TypedValue = r.GetInt64(0);
                    Apply(state, r.GetInt64(0), EventTypes.Deserialize(r.GetString(1), r.GetString(2)), r.GetFieldValue<DateTimeOffset>(3));
                }
            }
            if (rows < 2000)
            {
                break;
            }
        }
        return new ChannelAsOf(channelId, at, state.Seq, state.Name, state.Kind, state.Topic, state.Archived, state.Members,
            state.Messages.Values.Select(m => View(state.ChannelId, m)).ToList());
    }

    /// <summary>The same changes the history and directory projections make, applied in memory.</summary>
    private static void Apply(State s, long seq, object? e, DateTimeOffset at)
    {
        s.Seq = seq;
        switch (e)
        {
            case ChannelCreated c:
                (s.Name, s.Kind, s.Topic) = (c.Name, c.Kind, c.Topic);
                s.Members.AddRange(c.Members.Where(m => !s.Members.Contains(m)));
                break;
            case ChannelRenamed r:
                s.Name = r.Name;
                break;
            case ChannelTopicSet t:
                s.Topic = t.Topic;
                break;
            case ChannelArchived:
                s.Archived = true;
                break;
            case ChannelUnarchived:
                s.Archived = false;
                break;
            case MemberJoined j when !s.Members.Contains(j.UserId):
                s.Members.Add(j.UserId);
                break;
            case MemberLeft l:
                s.Members.Remove(l.UserId);
                break;
            case MessagePosted p:
                s.Messages[seq] = new Message(seq, p, at);
                if (p.ThreadRootSeq is { } root && s.Messages.TryGetValue(root, out var thread))
                {
                    thread.ReplyCount++;
                    thread.LastReplyAt = at;
                    thread.Replies.Add(seq);
                }
                break;
            case MessageEdited ed when s.Messages.TryGetValue(ed.Seq, out var edited) && !edited.Deleted:
                edited.Text = ed.Text;
                edited.EditedAt = at;
                break;
            case MessageDeleted d when s.Messages.TryGetValue(d.Seq, out var gone):
                if (!gone.Deleted)
                {
                    gone.Deleted = true;
                    gone.Text = "";
                    if (gone.ThreadRootSeq is { } r && s.Messages.TryGetValue(r, out var rootOf))
                    {
                        rootOf.ReplyCount--;
                        rootOf.LastReplyAt = rootOf.Replies
                            .Where(x => x != d.Seq && !s.Messages[x].Deleted)
                            .Select(x => (DateTimeOffset?)s.Messages[x].CreatedAt)
                            .LastOrDefault();
                    }
                }
                gone.Reactions.Clear();
                break;
            case ReactionAdded a when s.Messages.TryGetValue(a.Seq, out var target)
                                      && !target.Reactions.Any(x => x.Emoji == a.Emoji && x.UserId == a.UserId):
                target.Reactions.Add((a.Emoji, a.UserId, seq));
                break;
            case ReactionRemoved rr when s.Messages.TryGetValue(rr.Seq, out var from):
                from.Reactions.RemoveAll(x => x.Emoji == rr.Emoji && x.UserId == rr.UserId);
                break;
        }
    }

    private static MessageView View(string channelId, Message m) => new(
        channelId, m.Seq, m.UserId, m.Text, m.CreatedAt, m.EditedAt, m.Deleted, m.ThreadRootSeq, m.ReplyCount, m.LastReplyAt,
        m.Reactions
            .GroupBy(x => x.Emoji, StringComparer.Ordinal)
            .OrderBy(g => g.Min(x => x.ReactedSeq)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ReactionGroup(g.Key, g.Count(),
                g.OrderBy(x => x.ReactedSeq).ThenBy(x => x.UserId, StringComparer.Ordinal).Select(x => x.UserId).ToList()))
            .ToList());
}
