namespace EventSourcedChat.Gateway.Presence;

/// <summary>Placeholder (being built): presence in Redis (TTL keys), subscriptions and changes.</summary>
public sealed class PresenceService
{
    public Task ConnectedAsync(string connectionId, string userId) => Task.CompletedTask;

    public Task DisconnectedAsync(string connectionId, string userId) => Task.CompletedTask;

    public Task SubscribeAsync(string connectionId, string userId, string[] userIds) => Task.CompletedTask;

    public Task SetAsync(string connectionId, string userId, string status) => Task.CompletedTask;
}
