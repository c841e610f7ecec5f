namespace EventSourcedChat.Contracts.Realtime;

/// <summary>
/// The routing keys of the realtime exchange, named once: the push worker sends with them and gateways bind their
/// queues with them. A channel's events go with the channel id; member and read-marker events also with
/// <c>user.{id}</c> of the user concerned, so that user's gateway learns of them without a binding for the channel.
/// A profile change (<c>user.updated</c>) goes with <c>user.{id}</c> (the user's other devices) and
/// <c>workspace.{id}</c> of each workspace the user is in; a gateway binds the workspaces of its connected users.
/// </summary>
public static class RoutingKeys
{
    public static string Channel(string channelId) => channelId;

    public static string User(string userId) => $"user.{userId}";

    public static string Workspace(string workspaceId) => $"workspace.{workspaceId}";

    /// <summary>The routing keys a message is sent with: its channel, the user concerned for member, marker and profile
    /// events, and the user's workspaces for profile events.</summary>
    public static IEnumerable<string> Of(PushMessage m)
    {
        if (m.IsChannelEvent && m.ChannelId is not null)
        {
            yield return Channel(m.ChannelId);
        }
        if (m.UserId is not null)
        {
            yield return User(m.UserId);
        }
        foreach (var workspaceId in m.WorkspaceIds ?? [])
        {
            yield return Workspace(workspaceId);
        }
    }
}
