namespace EventSourcedChat.Gateway.Presence;

/// <summary>Placeholder (being built): typing signals over Redis pub/sub, throttled, members only.</summary>
public sealed class TypingService
{
    public Task TypingAsync(string userId, string channelId) => Task.CompletedTask;
}
