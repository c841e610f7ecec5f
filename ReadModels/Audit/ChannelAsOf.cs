using EventSourcedChat.Contracts.Events;
using EventSourcedChat.ReadModels.History;
using Npgsql;

namespace EventSourcedChat.ReadModels.Audit;

/// <summary>
/// A channel as it stood at an instant, rebuilt from its events (those stored at or before the instant, up to the
/// stream's head when first asked): name, topic, archived flag, members, and its messages (top-level and replies, in
/// seq order) shaped exactly as the history API shows them. The shape of the as-of answer, which
/// <see cref="ChannelAsOfQuery"/> writes out as it folds (it never builds this record).
/// </summary>
/// <param name="Seq">The last seq the state includes (0 when the channel did not exist yet).</param>
/// <param name="NextCursor">With <c>?limit=</c>: the cursor of the next page of messages; null on the last page.</param>
public sealed record ChannelAsOf(
    string ChannelId, DateTimeOffset At, long Seq, string? Name, string? Kind, string? Topic, bool Archived,
    IReadOnlyList<string> Members, IReadOnlyList<MessageView> Messages, string? NextCursor);

/// <summary>The channel itself as of a position: everything of <see cref="ChannelAsOf"/> but its messages.</summary>
public sealed class ChannelState
{
    private readonly HashSet<string> _members = [];

    public long Seq { get; private set; }
    public string? Name { get; private set; }
    public string? Kind { get; private set; }
    public string? Topic { get; private set; }
    public bool Archived { get; private set; }

    /// <summary>In the order they joined.</summary>
    public List<string> Members { get; } = [];

    private static readonly string[] ChannelTypes =
    [
        .. new[] { typeof(ChannelCreated), typeof(ChannelRenamed), typeof(ChannelTopicSet), typeof(ChannelArchived),
            typeof(ChannelUnarchived), typeof(MemberJoined), typeof(MemberLeft) }.Select(EventTypes.StoredTypeOf),
    ];

    /// <summary>
    /// Folds the channel's own events (not its messages) stored at or before <paramref name="at"/> with seq up to
    /// <paramref name="toSeq"/>. Memory grows with the member count, not with the channel's length.
    /// </summary>
    public static async Task<ChannelState> ReadAsync(NpgsqlDataSource db, string channelId, DateTimeOffset at, long toSeq, CancellationToken ct)
    {
        var state = new ChannelState();
        var stream = StreamNames.Channel(channelId);
        await using (var last = db.CreateCommand("""
            select coalesce(max(version), 0) from es_events where stream_id = $1 and version <= $2 and created_at <= $3
            """))
        {
            last.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
            last.Parameters.Add(new NpgsqlParameter<long> { TypedValue = toSeq });
            last.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
            state.Seq = (long)(await last.ExecuteScalarAsync(ct))!;
        }
        await using var cmd = db.CreateCommand("""
            select type, data::text from es_events
             where stream_id = $1 and version <= $2 and created_at <= $3 and type = any($4)
             order by version
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = state.Seq });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ChannelTypes });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            state.Apply(EventTypes.Deserialize(r.GetString(0), r.GetString(1)));
        }
        return state;
    }

    /// <summary>The same changes the directory projection makes.</summary>
    private void Apply(object? e)
    {
        switch (e)
        {
            case ChannelCreated c:
                (Name, Kind, Topic) = (c.Name, c.Kind, c.Topic);
                foreach (var member in c.Members)
                {
                    Join(member);
                }
                break;
            case ChannelRenamed r:
                Name = r.Name;
                break;
            case ChannelTopicSet t:
                Topic = t.Topic;
                break;
            case ChannelArchived:
                Archived = true;
                break;
            case ChannelUnarchived:
                Archived = false;
                break;
            case MemberJoined j:
                Join(j.UserId);
                break;
            case MemberLeft l when _members.Remove(l.UserId):
                Members.Remove(l.UserId);
                break;
        }
    }

    private void Join(string userId)
    {
        if (_members.Add(userId))
        {
            Members.Add(userId);
        }
    }
}
