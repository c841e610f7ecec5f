using System.Text.Json;
using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// Opens and closes a hub connection's delivery: on connect, its user's channels and workspaces are read (once the directory has
/// caught up with the log), its <see cref="ConnectionState"/> is made and registered with its bindings and groups, and
/// then it gets its <c>hello</c> (<see cref="RealtimeTypes.Hello"/>): clients wait for it before relying on live events.
/// </summary>
public sealed class HubConnections(
    ChatHubLifetimeManager lifetime, MemberChannels members, ChannelBindings bindings, RealtimeOptions options,
    HandOverStats stats, GatewayMetrics metrics, ILogger<HubConnections> logger)
{
    public async Task ConnectedAsync(string connectionId, string userId, CancellationToken ct)
    {
        var connection = lifetime.Find(connectionId)
            ?? throw new InvalidOperationException($"connection {connectionId} is not registered with the hub's lifetime manager");
        var position = await members.DirectoryCaughtUpAsync(ct);
        var channels = await members.ReadAsync(userId, ct);
        var workspaces = await members.ReadWorkspacesAsync(userId, ct);
        var state = new ConnectionState(connection, userId, options.ResumeGrace, stats, logger, metrics);
        await bindings.AddAsync(state, channels.Keys, workspaces, ct);
        ForgetAccessToken(connection);
        // Bound and in its typing groups: from here on nothing sent to its channels can miss it.
        state.Hello(new RealtimeEnvelope(RealtimeTypes.Hello, null, null, null, DateTimeOffset.UtcNow,
            JsonSerializer.SerializeToElement(new { userId, position }, EventTypes.Json)));
    }

    public Task DisconnectedAsync(string connectionId, string userId) => bindings.RemoveAsync(connectionId, userId);

    /// <summary>
    /// The upgraded request of a WebSocket connection stays in memory as long as the connection; a browser's bearer token
    /// is in its query string (browsers cannot send a header on a WebSocket), held there three times (the raw target,
    /// the query string and the parsed query). Authentication is done by now and nothing reads them again, so they are
    /// dropped: about 2 KB per connection with a 700-character token, and the token no longer appears in the request's
    /// end-of-request log line.
    /// </summary>
    private static void ForgetAccessToken(HubConnectionContext connection)
    {
        if (connection.GetHttpContext() is not { } http || !http.Request.Query.ContainsKey("access_token"))
        {
            return;
        }
        http.Request.Query = QueryCollection.Empty;
        if (http.Features.Get<IHttpRequestFeature>() is { } request)
        {
            request.RawTarget = (http.Request.PathBase + http.Request.Path).ToString();
        }
    }
}
