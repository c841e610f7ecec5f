using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A minimal SignalR client (JSON hub protocol over a WebSocket, no negotiation) for tests against the in-process
/// host: handshake, invocations with completions, pings, and every server <c>event</c> envelope kept in order.
/// </summary>
public sealed class HubClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';

    /// <summary>The one server-to-client method this client records (the hub's <c>IChatClient.Event</c>).</summary>
    public const string EventTarget = "event";
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TaskCompletionSource<JsonElement>> _pending = [];
    private readonly List<JsonElement> _events = [];
    private readonly Channel<bool> _signal = Channel.CreateUnbounded<bool>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private int _nextId;
    private int _disposed;

    private HubClient(WebSocket socket)
    {
        _socket = socket;
        _reader = Task.Run(ReadLoopAsync);
    }

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

    public static async Task<HubClient> ConnectAsync(ChatHost host, TestUser user)
    {
        var client = host.Server.CreateWebSocketClient();
        var uri = new Uri($"ws://localhost/v1/gateway?access_token={Uri.EscapeDataString(TokenOf(user))}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await HandshakeAsync(await client.ConnectAsync(uri, timeout.Token), timeout.Token);
    }

    /// <summary>Connects over a real socket to a hub URL (<c>http://host:port/v1/gateway</c>), as a client on the network would.</summary>
    public static async Task<HubClient> ConnectAsync(string hubUrl, TestUser user)
    {
        var builder = new UriBuilder(hubUrl) { Query = $"access_token={Uri.EscapeDataString(TokenOf(user))}" };
        builder.Scheme = builder.Scheme == "https" ? "wss" : "ws";
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await socket.ConnectAsync(builder.Uri, timeout.Token);
            return await HandshakeAsync(socket, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static string TokenOf(TestUser user) => user.Client.DefaultRequestHeaders.Authorization!.Parameter!;

    private static async Task<HubClient> HandshakeAsync(WebSocket socket, CancellationToken ct)
    {
        await SendRawAsync(socket, """{"protocol":"json","version":1}""", ct);
        var handshake = await ReceiveRecordsAsync(socket, new StringBuilder(), ct);
        var answer = JsonDocument.Parse(handshake![0]).RootElement;
        if (answer.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"Handshake refused: {error}");
        }
        var hub = new HubClient(socket);
        await hub.BarrierAsync();
        return hub;
    }

    /// <summary>Completes when the connection is gone (closed by the server, or the server died).</summary>
    public Task Closed => _reader;

    /// <summary>
    /// Waits until the server processed everything sent so far. The handshake answer comes before the hub's
    /// OnConnectedAsync runs; invocations are handled only after it, in order, so the completion of any invocation
    /// (here of a method that does not exist, which answers an error) means the connection is fully set up.
    /// </summary>
    public async Task BarrierAsync()
    {
        var id = Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var done = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _pending[id] = done;
        }
        await SendAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target = "__barrier", arguments = Array.Empty<object>() }));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Invokes a hub method and waits for its completion (throws on a hub error).</summary>
    public async Task<JsonElement> InvokeAsync(string method, params object?[] arguments)
    {
        var id = Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var done = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _pending[id] = done;
        }
        await SendAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target = method, arguments }));
        var completion = await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (completion.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"{method} failed: {error}");
        }
        return completion.TryGetProperty("result", out var result) ? result : default;
    }

    /// <summary>Waits (bounded) until the received events satisfy <paramref name="done"/>; answers them.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitUntilAsync(
        Func<IReadOnlyList<JsonElement>, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var events = Events;
            if (done(events))
            {
                return events;
            }
            try
            {
                await _signal.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException(
                    $"Timed out waiting for {what ?? "events"}; received {events.Count}: {string.Join(", ", events.Select(Describe))}");
            }
        }
    }

    /// <summary>The received events of one type (and channel).</summary>
    public IReadOnlyList<JsonElement> OfType(string type, string? channelId = null) =>
        Events.Where(e => e.GetProperty("type").GetString() == type
                          && (channelId is null || e.GetProperty("channelId").GetString() == channelId)).ToList();

    public static string Describe(JsonElement e) =>
        $"{e.GetProperty("type").GetString()}@{(e.TryGetProperty("position", out var p) ? p.ToString() : "-")}";

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stop.CancelAsync();
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
        }
        try
        {
            await _reader.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or TimeoutException)
        {
        }
        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new StringBuilder();
        while (!_stop.IsCancellationRequested)
        {
            List<string>? records;
            try
            {
                records = await ReceiveRecordsAsync(_socket, buffer, _stop.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                return;
            }
            if (records is null)
            {
                return;
            }
            foreach (var record in records)
            {
                var message = JsonDocument.Parse(record).RootElement.Clone();
                switch (message.GetProperty("type").GetInt32())
                {
                    // The typed hub sends "Event"; SignalR clients match method names case-insensitively.
                    case 1 when string.Equals(message.GetProperty("target").GetString(), EventTarget, StringComparison.OrdinalIgnoreCase):
                        lock (_gate)
                        {
                            _events.Add(message.GetProperty("arguments")[0]);
                        }
                        _signal.Writer.TryWrite(true);
                        break;
                    case 3:
                        TaskCompletionSource<JsonElement>? pending;
                        lock (_gate)
                        {
                            _pending.Remove(message.GetProperty("invocationId").GetString()!, out pending);
                        }
                        pending?.TrySetResult(message);
                        break;
                    case 6:
                        await SendAsync("""{"type":6}""");
                        break;
                    case 7:
                        return;
                }
            }
        }
    }

    private async Task SendAsync(string json)
    {
        await _sendLock.WaitAsync();
        try
        {
            await SendRawAsync(_socket, json, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private static Task SendRawAsync(WebSocket socket, string json, CancellationToken ct) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, true, ct);

    /// <summary>Reads messages until at least one complete record arrived; null when the socket closed.</summary>
    private static async Task<List<string>?> ReceiveRecordsAsync(WebSocket socket, StringBuilder buffer, CancellationToken ct)
    {
        var chunk = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(chunk, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            message.Write(chunk, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            buffer.Append(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
            message.SetLength(0);
            var text = buffer.ToString();
            var last = text.LastIndexOf(RecordSeparator);
            if (last < 0)
            {
                continue;
            }
            buffer.Clear().Append(text[(last + 1)..]);
            return [.. text[..last].Split(RecordSeparator)];
        }
    }
}
