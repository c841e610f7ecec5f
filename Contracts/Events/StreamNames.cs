namespace EventSourcedChat.Contracts.Events;

/// <summary>
/// The event streams of the log, named once: <c>channel-{id}</c>, <c>user-{id}</c>, <c>workspace-{id}</c>. The write
/// side appends to them, the read side, the push worker, the audit API and chatctl's offline verifier read them.
/// </summary>
public static class StreamNames
{
    public const string ChannelPrefix = "channel-";
    public const string UserPrefix = "user-";
    public const string WorkspacePrefix = "workspace-";

    public static string Channel(string channelId) => ChannelPrefix + channelId;

    public static string User(string userId) => UserPrefix + userId;

    public static string Workspace(string workspaceId) => WorkspacePrefix + workspaceId;

    public static bool IsChannel(string streamId) => streamId.StartsWith(ChannelPrefix, StringComparison.Ordinal);

    public static bool IsUser(string streamId) => streamId.StartsWith(UserPrefix, StringComparison.Ordinal);

    /// <summary>The channel id of a channel stream.</summary>
    public static string ChannelIdOf(string streamId) =>
        IsChannel(streamId) ? streamId[ChannelPrefix.Length..] : throw new ArgumentException($"'{streamId}' is not a channel stream", nameof(streamId));
}
