using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Presence;

/// <summary>
/// A minimal SignalR client for the tests (the .NET SignalR client is not available here): negotiate, then a
/// WebSocket through the TestServer with the JSON hub protocol; records every <c>event</c> envelope, completes
/// invocations and answers pings.
/// </summary>
public sealed class MiniHubClient : IAsyncDisposable
{
    private const char Separator = '\u001e';
    private readonly WebSocket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<JsonElement> _events = [];
    private readonly Dictionary<string, TaskCompletionSource<JsonElement>> _pending = [];
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private Task _reading = Task.CompletedTask;
    private int _nextId;

    private MiniHubClient(WebSocket socket, string connectionId)
    {
        _socket = socket;
        ConnectionId = connectionId;
    }

    /// <summary>The server's connection id (from negotiate), to add the connection to groups in tests.</summary>
    public string ConnectionId { get; }

    public bool Closed { get; private set; }

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
        using var http = host.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var negotiation = await http.PostAsync(new Uri("/v1/gateway/negotiate?negotiateVersion=1", UriKind.Relative), null);
        negotiation.EnsureSuccessStatusCode();
        var negotiated = JsonDocument.Parse(await negotiation.Content.ReadAsStringAsync()).RootElement;
        var connectionId = negotiated.GetProperty("connectionId").GetString()!;
        var connectionToken = negotiated.GetProperty("connectionToken").GetString()!;

        var socket = await host.Server.CreateWebSocketClient().ConnectAsync(
            new Uri($"ws://localhost/v1/gateway?id={Uri.EscapeDataString(connectionToken)}&access_token={Uri.EscapeDataString(token)}"),
            CancellationToken.None);
        var client = new MiniHubClient(socket, connectionId);
        await client.SendRawAsync("""{"protocol":"json","version":1}""");
        var handshake = await client.ReadFramesAsync(CancellationToken.None);
        if (handshake.Count == 0 || JsonDocument.Parse(handshake[0]).RootElement.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"handshake failed: {string.Join(" ", handshake)}");
        }
        client._reading = Task.Run(() => client.ReadLoopAsync(handshake.Skip(1).ToList()));
        // A round trip: the server ran OnConnectedAsync before it answers an invocation.
        await client.SubscribePresenceAsync();
        return client;
    }

    /// <summary><c>SubscribePresence(userIds)</c>: one argument, the array.</summary>
    public Task<JsonElement> SubscribePresenceAsync(params string[] userIds) => InvokeAsync("SubscribePresence", [userIds]);

    /// <summary>Invokes a hub method and waits (bounded) for its completion; a hub error throws <see cref="HubError"/>.</summary>
    public async Task<JsonElement> InvokeAsync(string target, params object?[] arguments)
    {
        var id = Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _pending[id] = completion;
        }
        await SendRawAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target, arguments }));
        return await completion.Task.WaitAsync(TimeSpan.FromSeconds(15));
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
        if (Closed)
        {
            return;
        }
        Closed = true;
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException or IOException or ObjectDisposedException)
        {
        }
        await _stop.CancelAsync();
        try
        {
            await _reading.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or WebSocketException or IOException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _socket.Dispose();
        _stop.Dispose();
        _sendGate.Dispose();
    }

    private async Task SendRawAsync(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json + Separator);
        await _sendGate.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private readonly StringBuilder _partial = new();

    /// <summary>Reads WebSocket messages until at least one complete frame is buffered; answers the complete frames.</summary>
    private async Task<List<string>> ReadFramesAsync(CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return [];
            }
            _partial.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
            var text = _partial.ToString();
            var last = text.LastIndexOf(Separator);
            if (last < 0)
            {
                continue;
            }
            _partial.Clear().Append(text[(last + 1)..]);
            return [.. text[..last].Split(Separator)];
        }
    }

    private async Task ReadLoopAsync(List<string> first)
    {
        var frames = first;
        while (true)
        {
            foreach (var frame in frames)
            {
                await HandleAsync(frame);
            }
            frames = await ReadFramesAsync(_stop.Token);
            if (frames.Count == 0)
            {
                Closed = true;
                return;
            }
        }
    }

    private async Task HandleAsync(string frame)
    {
        var message = JsonDocument.Parse(frame).RootElement.Clone();
        switch (message.GetProperty("type").GetInt32())
        {
            case 1 when string.Equals(message.GetProperty("target").GetString(), "event", StringComparison.OrdinalIgnoreCase):
                lock (_gate)
                {
                    _events.Add(message.GetProperty("arguments")[0]);
                }
                break;
            case 3:
                TaskCompletionSource<JsonElement>? completion;
                lock (_gate)
                {
                    _pending.Remove(message.GetProperty("invocationId").GetString()!, out completion);
                }
                if (message.TryGetProperty("error", out var error))
                {
                    completion?.TrySetException(new HubError(error.GetString() ?? ""));
                }
                else
                {
                    completion?.TrySetResult(message.TryGetProperty("result", out var result) ? result : default);
                }
                break;
            case 6:
                await SendRawAsync("""{"type":6}""");
                break;
            case 7:
                Closed = true;
                break;
        }
    }
}

public sealed class HubError(string message) : Exception(message);
