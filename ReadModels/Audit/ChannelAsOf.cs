using EventSourcedChat.Contracts.Events;
using EventSourcedChat.ReadModels.History;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.EventStore;
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

/// <summary>
/// The channel itself as of a position: everything of <see cref="ChannelAsOf"/> but its messages, folded from the
/// channel's own events by the write side's one fold of a channel (<see cref="Commands.Channels.ChannelState.Evolve"/>).
/// </summary>
/// <param name="Members">In the order they joined.</param>
public sealed record AsOfChannel(long Seq, string? Name, string? Kind, string? Topic, bool Archived, IReadOnlyList<string> Members)
{
    private static readonly string[] ChannelTypes =
    [
        .. new[] { typeof(ChannelCreated), typeof(ChannelRenamed), typeof(ChannelTopicSet), typeof(ChannelArchived),
            typeof(ChannelUnarchived), typeof(MemberJoined), typeof(MemberLeft) }.Select(EventTypes.StoredTypeOf),
    ];

    /// <summary>
    /// Folds the channel's own events (not its messages) stored at or before <paramref name="at"/> with seq up to
    /// <paramref name="toSeq"/>. Memory grows with the member count, not with the channel's length.
    /// </summary>
    public static async Task<AsOfChannel> ReadAsync(NpgsqlDataSource db, string channelId, DateTimeOffset at, long toSeq, CancellationToken ct)
    {
        var stream = StreamNames.Channel(channelId);
        var history = new StreamHistoryReader(db);
        var seq = await history.LastVersionAsOfAsync(stream, toSeq, at, ct);
        var state = ChannelState.Initial;
        await foreach (var stored in history.ReadAsOfAsync(stream, seq, at, ChannelTypes, ct))
        {
            // Only the channel's own events are read: the fold is positioned at each one's version (its seq).
            if (EventTypes.Deserialize(stored.Type, stored.Data) is { } e)
            {
                state = ChannelState.Evolve(state with { Version = stored.Version - 1 }, e);
            }
        }
        return state.Exists
            ? new AsOfChannel(seq, state.Name, state.Kind, state.Topic, state.Archived, [.. state.MembersInJoinOrder])
            : new AsOfChannel(seq, null, null, null, false, []);
    }
}
