using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Presence;

/// <summary>
/// The presence tests' hub client: the .NET SignalR client (<see cref="HubConnection"/>) with negotiation (the
/// connection id is needed to add the connection to groups), through the TestServer's handler and WebSocket client;
/// records every <c>event</c> envelope in the order it arrived.
/// </summary>
public sealed class MiniHubClient : IAsyncDisposable
{
    private readonly HubConnection _connection;
    private readonly Lock _gate = new();
    private readonly List<JsonElement> _events = [];
    private int _closed;

    private MiniHubClient(IHubConnectionBuilder builder)
    {
        builder.Services.AddSingleton<IHubProtocol>(new RecordingHubProtocol(Record));
        var connection = _connection = builder.Build();
        // Events are recorded by RecordingHubProtocol, in the order they arrived; the handler tells the protocol that
        // "Event" has one argument, read as a JsonElement.
        connection.On<JsonElement>("Event", _ => { });
        connection.Closed += _ =>
        {
            Volatile.Write(ref _closed, 1);
            return Task.CompletedTask;
        };
    }

    private void Record(JsonElement envelope)
    {
        lock (_gate)
        {
            _events.Add(envelope);
        }
    }

    /// <summary>The server's connection id (from negotiate), to add the connection to groups in tests.</summary>
    public string ConnectionId => _connection.ConnectionId!;

    public bool Closed => Volatile.Read(ref _closed) == 1;

    /// <summary>Every <c>event</c> envelope received so far, in order.</summary>
    public IReadOnlyList<JsonElement> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<JsonElement> EventsOfType(string type) => [.. Events.Where(e => e.GetProperty("type").GetString() == type)];

    public static async Task<MiniHubClient> ConnectAsync(ChatHost host, TestUser user)
    {
        var token = user.Client.DefaultRequestHeaders.Authorization?.Parameter ?? throw new InvalidOperationException("user has no token");
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri("http://localhost/v1/gateway"), HttpTransportType.WebSockets, options =>
            {
                // Negotiate sends the token as a bearer header; the WebSocket request carries it in the query string.
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                options.HttpMessageHandlerFactory = _ => host.Server.CreateHandler();
                options.WebSocketFactory = async (context, ct) =>
                {
                    var url = new UriBuilder(context.Uri);
                    url.Query = (url.Query.Length > 1 ? url.Query[1..] + "&" : "") + "access_token=" + Uri.EscapeDataString(token);
                    return await host.Server.CreateWebSocketClient().ConnectAsync(url.Uri, ct);
                };
            })
;
        var client = new MiniHubClient(builder);
        var connection = client._connection;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await connection.StartAsync(timeout.Token);
            // A round trip: the server ran OnConnectedAsync before it answers an invocation.
            await client.SubscribePresenceAsync();
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary><c>SubscribePresence(userIds)</c>: one argument, the array.</summary>
    public Task<JsonElement> SubscribePresenceAsync(params string[] userIds) => InvokeAsync("SubscribePresence", [userIds]);

    /// <summary>Invokes a hub method and waits (bounded) for its completion; a hub error throws <see cref="HubError"/>.</summary>
    public async Task<JsonElement> InvokeAsync(string target, params object?[] arguments)
    {
        object? result;
        try
        {
            result = await _connection.InvokeCoreAsync(target, typeof(object), arguments).WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (HubException e)
        {
            throw new HubError(e.Message);
        }
        return result is JsonElement element ? element : default;
    }

    /// <summary>Waits (bounded) until an event matching <paramref name="match"/> arrived; answers it.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, string what, TimeSpan? timeout = null)
    {
        var found = await Eventually.Until(() => Task.FromResult(Events.Where(match).ToList()), l => l.Count > 0, timeout, what);
        return found[0];
    }

    public Task<JsonElement> WaitForPresenceAsync(string userId, string status, TimeSpan? timeout = null) =>
        WaitForAsync(e => IsPresence(e, userId, status), $"presence {userId} {status}", timeout);

    public static bool IsPresence(JsonElement e, string userId, string? status = null) =>
        e.GetProperty("type").GetString() == "presence.changed"
        && e.GetProperty("data").GetProperty("userId").GetString() == userId
        && (status is null || e.GetProperty("data").GetProperty("status").GetString() == status);

    /// <summary>The statuses received for <paramref name="userId"/>, in order.</summary>
    public IReadOnlyList<string> PresenceOf(string userId) =>
        [.. Events.Where(e => IsPresence(e, userId)).Select(e => e.GetProperty("data").GetProperty("status").GetString()!)];

    public async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }
        try
        {
            await _connection.StopAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or TimeoutException or System.Net.WebSockets.WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        try
        {
            await _connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or TimeoutException or System.Net.WebSockets.WebSocketException)
        {
        }
    }
}

public sealed class HubError(string message) : Exception(message);
