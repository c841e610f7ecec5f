namespace EventSourcedChat.Contracts.Realtime;

/// <summary>
/// The realtime event types that the push worker or the gateway name or act on (API.md, "Realtime"). Other channel
/// events are sent with their stored type without its version (<c>message.edited.v1</c> is <c>message.edited</c>).
/// </summary>
public static class RealtimeTypes
{
    public const string MessagePosted = "message.posted";
    public const string MemberJoined = "member.joined";
    public const string MemberLeft = "member.left";

    /// <summary>A message was pinned or unpinned: <c>data</c> is <c>{channelId, seq, pinned, pinnedBy, pinnedAt}</c> as in the history API, and <c>by</c>.</summary>
    public const string MessagePinned = "message.pinned";
    public const string MessageUnpinned = "message.unpinned";

    /// <summary>Sent for both <c>channel.renamed</c> and <c>channel.topic_set</c>.</summary>
    public const string ChannelUpdated = "channel.updated";

    /// <summary>A user's read marker moved (sent to that user's connections only, never replayed).</summary>
    public const string ReadMarker = "read.marker";

    /// <summary>
    /// A user's profile, status or avatar changed (<c>user.profile_updated</c>, <c>user.status_set</c>, <c>user.status_cleared</c>, <c>user.avatar_set</c>, <c>user.avatar_removed</c>):
    /// sent to the connections of everyone sharing a workspace with them and to their own, never replayed. <c>data</c>
    /// is <c>{userId, displayName, title, timeZone}</c>, <c>{userId, status}</c> (status null when cleared) or
    /// <c>{userId, avatar: {fileId, sha256}, position}</c> (avatar null when removed; the URLs come with the profile, read
    /// with <c>?minPosition=position</c>).
    /// </summary>
    public const string UserUpdated = "user.updated";

    /// <summary>
    /// Gateway-internal, never sent to clients: a user was added to a workspace (<c>data</c> is <c>{workspaceId, userId}</c>);
    /// the gateways of that user's connections start receiving the workspace's <see cref="UserUpdated"/>.
    /// </summary>
    public const string WorkspaceMemberAdded = "workspace.member_added";

    /// <summary>
    /// Gateway-internal, never sent to clients: a user was removed from a workspace or left it (<c>data</c> is
    /// <c>{workspaceId, userId}</c>); the gateways of that user's connections stop receiving the workspace's
    /// <see cref="UserUpdated"/>. Their channels end with their own <see cref="MemberLeft"/> events.
    /// </summary>
    public const string WorkspaceMemberRemoved = "workspace.member_removed";

    /// <summary>
    /// Gateway-internal, never sent to clients: an instance administrator deactivated the user (<c>data</c> is
    /// <c>{userId}</c>, routed with the user's key); every gateway closes that user's connections (their tokens are revoked,
    /// so they cannot connect again).
    /// </summary>
    public const string UserDeactivated = "user.deactivated";

    /// <summary>
    /// The first event on a connection, once it is registered for its channels (bound, in their typing groups):
    /// <c>data</c> is <c>{userId, position}</c>, the log position its channel list was read at. No <c>seq</c> or
    /// envelope <c>position</c> (it is not a log event, and must not move a client's resume cursor).
    /// </summary>
    public const string Hello = "hello";

    /// <summary>The gateway cannot replay what the client missed: it refetches with REST.</summary>
    public const string ResyncRequired = "resync.required";
}
