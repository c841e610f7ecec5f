using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.Contracts.Events;

// Stream: channel-{channelId}. The stream version of an event is the channel's seq.

/// <param name="Kind"><c>public</c>, <c>private</c> or <c>dm</c>.</param>
/// <param name="Members">The fixed member set of a DM; empty for other kinds (the creator joins with <see cref="MemberJoined"/>).</param>
[EventType("channel.created")]
public sealed record ChannelCreated(
    string ChannelId, string WorkspaceId, string Name, string Kind, string? Topic, string CreatedBy, IReadOnlyList<string> Members);

[EventType("channel.renamed")]
public sealed record ChannelRenamed(string ChannelId, string Name, string By);

[EventType("channel.topic_set")]
public sealed record ChannelTopicSet(string ChannelId, string? Topic, string By);

[EventType("channel.archived")]
public sealed record ChannelArchived(string ChannelId, string By);

[EventType("channel.unarchived")]
public sealed record ChannelUnarchived(string ChannelId, string By);

/// <param name="InvitedBy">Who added the member; null when they joined by themselves.</param>
[EventType("member.joined")]
public sealed record MemberJoined(string ChannelId, string UserId, string? InvitedBy);

/// <param name="RemovedBy">Who removed the member; null when they left by themselves.</param>
[EventType("member.left")]
public sealed record MemberLeft(string ChannelId, string UserId, string? RemovedBy);

/// <summary>Who a message mentions, parsed at post and edit time.</summary>
public sealed record Mentions(IReadOnlyList<string> UserIds, bool Channel, bool Here)
{
    public static Mentions None { get; } = new([], false, false);
}

/// <summary>A file attached to a message: its metadata and the SHA-256 of its bytes (hex), never the bytes.</summary>
/// <param name="ContentType">The type found in the bytes when they were uploaded (not the one the client declared).</param>
/// <param name="Width">An image's width in pixels, as decoded when it was uploaded (absent for other files, and for images
/// that could not be decoded or declare more pixels than allowed: <see cref="FileSettings.ThumbnailMaxPixels"/>).</param>
/// <param name="Height">The image's height in pixels, with <paramref name="Width"/>.</param>
/// <param name="Thumbnail">The image's thumbnail in the object store, with <paramref name="Width"/>.</param>
public sealed record SharedFile(
    string FileId, string Name, long Size, string ContentType, string Sha256,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    int? Width = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    int? Height = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Thumbnail? Thumbnail = null);

/// <param name="Files">The files attached to the message (none: absent from the stored data, as in every post before files).</param>
[EventType("message.posted")]
public sealed record MessagePosted(
    string ChannelId, string MessageId, string UserId, string Text, long? ThreadRootSeq, Mentions Mentions,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<SharedFile>? Files = null);

[EventType("message.edited")]
public sealed record MessageEdited(string ChannelId, long Seq, string Text, Mentions Mentions, string By);

/// <summary>A tombstone: the original stays in the log for auditors; readers see the message as deleted.</summary>
[EventType("message.deleted")]
public sealed record MessageDeleted(string ChannelId, long Seq, string By);

[EventType("reaction.added")]
public sealed record ReactionAdded(string ChannelId, long Seq, string Emoji, string UserId);

[EventType("reaction.removed")]
public sealed record ReactionRemoved(string ChannelId, long Seq, string Emoji, string UserId);

/// <summary>A member pinned a live message: it shows in the channel's pins until unpinned or deleted.</summary>
[EventType("message.pinned", version: 1)]
public sealed record MessagePinned(string ChannelId, long Seq, string By);

/// <summary>A member unpinned a pinned message. Deleting a pinned message unpins it without this event.</summary>
[EventType("message.unpinned", version: 1)]
public sealed record MessageUnpinned(string ChannelId, long Seq, string By);

/// <summary>A workspace admin put the channel on legal hold: until lifted, none of its events may be removed.</summary>
[EventType("channel.legal_hold_placed")]
public sealed record LegalHoldPlaced(string ChannelId, string? Reason, string By);

[EventType("channel.legal_hold_lifted")]
public sealed record LegalHoldLifted(string ChannelId, string By);
