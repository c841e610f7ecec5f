using System.Collections.Immutable;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Commands.Channels;

/// <summary>One message as decisions need it: author, thread, tombstone and who reacted with what.</summary>
public sealed record MessageState(long Seq, string AuthorId, long? ThreadRootSeq, bool Deleted, ImmutableHashSet<(string Emoji, string UserId)> Reactions)
{
    public bool IsTopLevel => ThreadRootSeq is null;

    /// <summary>In the channel's pins: pinned, not unpinned since, not deleted.</summary>
    public bool Pinned { get; init; }

    public bool HasReaction(string emoji, string userId) => Reactions.Contains((emoji, userId));
}

/// <summary>
/// A channel stream folded by <see cref="Evolve"/>: the one model of a channel that commands decide on, that the
/// write-side tables keep (<see cref="ChannelWriteSide"/>, which loads the slice a command needs in O(1)) and that the
/// as-of view replays. <see cref="Version"/> is the stream's version, so a message's seq is the version of its post.
/// </summary>
/// <param name="Members">Each member with the seq at which they joined (the order of <see cref="MembersInJoinOrder"/>).</param>
/// <param name="Messages">By seq. A state loaded from the write side holds only the messages the command names.</param>
public sealed record ChannelState(
    string ChannelId, string WorkspaceId, string Name, string Kind, string? Topic, string CreatedBy, bool Archived, bool Held,
    long Version, ImmutableDictionary<string, long> Members, ImmutableDictionary<long, MessageState> Messages)
{
    /// <summary>No event yet: the channel does not exist.</summary>
    public static ChannelState Initial { get; } = new(
        "", "", "", "", null, "", false, false, 0, ImmutableDictionary<string, long>.Empty, ImmutableDictionary<long, MessageState>.Empty);

    public bool Exists => Version > 0;
    public bool IsPrivate => Kind is "private" or "dm";
    public bool IsDm => Kind == "dm";

    /// <summary>How many live messages of the channel are pinned (the cap counts these).</summary>
    public int PinCount { get; init; }

    public bool IsMember(string userId) => Members.ContainsKey(userId);

    public MessageState? Message(long seq) => Messages.GetValueOrDefault(seq);

    /// <summary>In the order they joined (the members of a DM's creation in their sorted order).</summary>
    public IEnumerable<string> MembersInJoinOrder =>
        Members.OrderBy(m => m.Value).ThenBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Key);

    /// <summary>The one fold of a channel stream: every channel event, in stream order, moves the version by one.</summary>
    public static ChannelState Evolve(ChannelState state, object @event)
    {
        var s = state with { Version = state.Version + 1 };
        return @event switch
        {
            ChannelCreated c => s with
            {
                ChannelId = c.ChannelId, WorkspaceId = c.WorkspaceId, Name = c.Name, Kind = c.Kind, Topic = c.Topic, CreatedBy = c.CreatedBy,
                Members = c.Members.Aggregate(s.Members, (m, u) => m.ContainsKey(u) ? m : m.Add(u, s.Version)),
            },
            ChannelRenamed r => s with { Name = r.Name },
            ChannelTopicSet t => s with { Topic = t.Topic },
            ChannelArchived => s with { Archived = true },
            ChannelUnarchived => s with { Archived = false },
            MemberJoined j => s.IsMember(j.UserId) ? s : s with { Members = s.Members.Add(j.UserId, s.Version) },
            MemberLeft l => s with { Members = s.Members.Remove(l.UserId) },
            MessagePosted p => s with
            {
                Messages = s.Messages.SetItem(s.Version, new MessageState(s.Version, p.UserId, p.ThreadRootSeq, false, [])),
            },
            MessageEdited => s, // the text is the read side's; nothing a decision needs changes
            MessageDeleted d => s.WithPin(d.Seq, false).WithMessage(d.Seq, m => m with { Deleted = true }),
            ReactionAdded a => s.WithMessage(a.Seq, m => m with { Reactions = m.Reactions.Add((a.Emoji, a.UserId)) }),
            ReactionRemoved r => s.WithMessage(r.Seq, m => m with { Reactions = m.Reactions.Remove((r.Emoji, r.UserId)) }),
            MessagePinned p => s.WithPin(p.Seq, true),
            MessageUnpinned u => s.WithPin(u.Seq, false),
            LegalHoldPlaced => s with { Held = true },
            LegalHoldLifted => s with { Held = false },
            _ => throw new UnknownEventException("channel", @event),
        };
    }

    /// <summary>Pins or unpins a live message, keeping <see cref="PinCount"/>; a deleted message is never pinned.</summary>
    private ChannelState WithPin(long seq, bool pinned) =>
        Messages.TryGetValue(seq, out var m) && !m.Deleted && m.Pinned != pinned
            ? this with { Messages = Messages.SetItem(seq, m with { Pinned = pinned }), PinCount = PinCount + (pinned ? 1 : -1) }
            : this;

    private ChannelState WithMessage(long seq, Func<MessageState, MessageState> change) =>
        Messages.TryGetValue(seq, out var m) ? this with { Messages = Messages.SetItem(seq, change(m)) } : this;
}
