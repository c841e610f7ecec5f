namespace EventSourcedChat.Contracts.Realtime;

/// <summary>
/// The routing keys of the realtime exchange, named once: the push worker sends with them and gateways bind their
/// queues with them. A channel's events go with the channel id; member and read-marker events also with
/// <c>user.{id}</c> of the user concerned, so that user's gateway learns of them without a binding for the channel.
/// </summary>
public static class RoutingKeys
{
    public static string Channel(string channelId) => channelId;

    public static string User(string userId) => $"user.{userId}";

    /// <summary>The routing keys a message is sent with: its channel, and the user concerned for member and marker events.</summary>
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
    }
}
