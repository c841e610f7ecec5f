using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.ReadModels.History;

/// <summary>One message as the history API shows it; a deleted message is a tombstone (<c>deleted</c>, empty text).</summary>
/// <param name="ThreadRootSeq">The thread's root for a reply; null for a top-level message.</param>
/// <param name="ReplyCount">Live (not deleted) replies of a top-level message; 0 for a reply.</param>
/// <param name="LastReplyAt">When the latest live reply was posted; null when there is none.</param>
/// <param name="Pinned">In the channel's pins; <paramref name="PinnedBy"/> and <paramref name="PinnedAt"/> say who pinned it and when (null when not pinned).</param>
/// <param name="Files">The files the message carries, as its post has them (none once deleted); get one with <c>GET /v1/files/{fileId}</c>.</param>
public sealed record MessageView(
    string ChannelId, long Seq, string UserId, string Text, DateTimeOffset CreatedAt, DateTimeOffset? EditedAt, bool Deleted,
    long? ThreadRootSeq, int ReplyCount, DateTimeOffset? LastReplyAt, IReadOnlyList<ReactionGroup> Reactions,
    bool Pinned, string? PinnedBy, DateTimeOffset? PinnedAt, IReadOnlyList<SharedFile> Files);

/// <summary>Everyone who reacted to a message with one emoji, in the order they reacted.</summary>
public sealed record ReactionGroup(string Emoji, int Count, IReadOnlyList<string> UserIds);

/// <summary>A page of top-level messages: newest first when paging back (<c>before</c>, or the latest page), oldest first with <c>after</c>.</summary>
/// <param name="Authors">The page's authors, once each, with their display names and avatar URLs.</param>
public sealed record MessagePage(IReadOnlyList<MessageView> Messages, bool HasMore, IReadOnlyList<AuthorView>? Authors = null);

/// <summary>A channel's pinned messages, newest pin first (at most the write side's cap per channel).</summary>
public sealed record PinnedMessages(IReadOnlyList<MessageView> Messages);

/// <summary>A thread: its root and a page of replies, oldest first.</summary>
/// <param name="Authors">The root's and the replies' authors, once each, with their display names and avatar URLs.</param>
public sealed record ThreadPage(MessageView Root, IReadOnlyList<MessageView> Replies, bool HasMore, IReadOnlyList<AuthorView>? Authors = null);
