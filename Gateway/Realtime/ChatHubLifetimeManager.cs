using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// SignalR's default (single-node) lifetime manager for <see cref="ChatHub"/> that also keeps each local connection's
/// <see cref="HubConnectionContext"/> by id, so that the fan-out can write a message serialized once to many
/// connections (<see cref="HubConnectionContext.WriteAsync(Microsoft.AspNetCore.SignalR.Protocol.HubMessage, CancellationToken)"/>
/// with a <see cref="SerializedHubMessage"/>) instead of sending through <c>Clients.Client(id)</c>, which serializes
/// the invocation again for every connection.
/// </summary>
public sealed class ChatHubLifetimeManager(ILogger<DefaultHubLifetimeManager<ChatHub>> logger) : DefaultHubLifetimeManager<ChatHub>(logger)
{
    private readonly ConcurrentDictionary<string, HubConnectionContext> _connections = new(StringComparer.Ordinal);

    /// <summary>The local connection with this id (registered before the hub's <c>OnConnectedAsync</c> runs), or null.</summary>
    public HubConnectionContext? Find(string connectionId) => _connections.GetValueOrDefault(connectionId);

    /// <summary>The local connections now (a snapshot-free view: connections may come and go while it is read).</summary>
    public IEnumerable<HubConnectionContext> Connections => _connections.Values;

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        _connections[connection.ConnectionId] = connection;
        return base.OnConnectedAsync(connection);
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        _connections.TryRemove(connection.ConnectionId, out _);
        return base.OnDisconnectedAsync(connection);
    }
}
