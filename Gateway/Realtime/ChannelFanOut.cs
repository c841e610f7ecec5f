namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// Placeholder (being built): joins a connection to its user's channels, keeps one broker binding per channel with
/// local members, fans received events out to local connections, and replays missed events on Resume.
/// </summary>
public sealed class ChannelFanOut
{
    public Task ConnectedAsync(string connectionId, string userId, CancellationToken ct) => Task.CompletedTask;

    public Task DisconnectedAsync(string connectionId, string userId) => Task.CompletedTask;

    public Task ResumeAsync(string connectionId, string userId, long position, CancellationToken ct) => Task.CompletedTask;
}
