using EventSourcedChat.Gateway.Presence;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// The hub at <c>/v1/gateway</c>. It holds no business rules: opening a connection's delivery is
/// <see cref="HubConnections"/>', resume <see cref="ResumeHandOver"/>'s, presence and typing
/// <see cref="PresenceService"/>'s and <see cref="TypingService"/>'s.
/// </summary>
[Authorize]
public sealed class ChatHub(HubConnections connections, ResumeHandOver handOver, PresenceService presence, TypingService typing) : Hub<IChatClient>
{
    private string UserId => Context.UserIdentifier ?? throw new HubException("unauthenticated");

    public override async Task OnConnectedAsync()
    {
        await connections.ConnectedAsync(Context.ConnectionId, UserId, Context.ConnectionAborted);
        await presence.ConnectedAsync(Context.ConnectionId, UserId);
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        await connections.DisconnectedAsync(Context.ConnectionId, UserId);
        await presence.DisconnectedAsync(Context.ConnectionId, UserId);
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>Replays every channel event after <paramref name="position"/> in the caller's channels, then live ones.</summary>
    public Task Resume(long position) => handOver.ResumeAsync(Context.ConnectionId, position, Context.ConnectionAborted);

    public Task Typing(string channelId) => typing.TypingAsync(UserId, channelId);

    public Task SubscribePresence(string[] userIds) => presence.SubscribeAsync(Context.ConnectionId, UserId, userIds);

    public Task SetPresence(string status) => presence.SetAsync(Context.ConnectionId, UserId, status);
}
