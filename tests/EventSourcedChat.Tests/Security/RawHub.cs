using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Security;

/// <summary>A raw SignalR JSON-protocol connection that can send anything, including bytes that are not UTF-8.</summary>
/// <remarks>
/// Raw frames on purpose, not the .NET SignalR client the other tests use (Infrastructure/HubClient.cs): the fuzzer
/// must send bad frames (broken JSON, unknown message types, missing record separators, invalid UTF-8), which
/// HubConnection can never produce, and see exactly how the server answers or closes.
/// </remarks>
internal sealed class RawHub : IAsyncDisposable
{
    private readonly WebSocket _socket;
    private readonly StringBuilder _buffer = new();
    private readonly Queue<JsonElement> _records = new();

    private RawHub(WebSocket socket) => _socket = socket;

    /// <summary>False once the server ended the connection (a close message or frame) or the socket failed.</summary>
    public bool Open => !_closed && _socket.State == WebSocketState.Open;

    private bool _closed;

    public static async Task<RawHub> ConnectAsync(ChatHost host, TestUser user)
    {
        var socket = await host.Server.CreateWebSocketClient().ConnectAsync(
            new Uri($"ws://localhost/v1/gateway?access_token={Uri.EscapeDataString(SecurityWorld.TokenOfUser(user))}"), CancellationToken.None);
        var hub = new RawHub(socket);
        await hub.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"));
        var handshake = await hub.NextAsync(TimeSpan.FromSeconds(10));
        if (handshake is not { } h || h.ValueKind != JsonValueKind.Object || h.TryGetProperty("error", out _))
        {
            throw new InvalidOperationException($"handshake failed: {handshake}");
        }
        return hub;
    }

    public Task SendAsync(byte[] frame) => _socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The completion of <paramref name="invocationId"/>, or null when the server closed the connection.</summary>
    public async Task<JsonElement?> CompletionAsync(string invocationId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no completion of {invocationId}");
            }
            if (await NextAsync(left) is not { } record)
            {
                _closed = true;
                return null;
            }
            var type = record.TryGetProperty("type", out var t) ? t.GetInt32() : 0;
            if (type == 7)
            {
                _closed = true;
                return null; // close, possibly with an error: a clean end of the connection
            }
            if (type == 3 && record.GetProperty("invocationId").GetString() == invocationId)
            {
                return record;
            }
        }
    }

    private async Task<JsonElement?> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var chunk = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (_records.Count == 0)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(chunk, cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or IOException)
            {
                return null;
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"nothing received within {timeout.TotalSeconds:0.#} s");
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            message.Write(chunk, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            _buffer.Append(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
            message.SetLength(0);
            var text = _buffer.ToString();
            var last = text.LastIndexOf('\u001e');
            if (last < 0)
            {
                continue;
            }
            _buffer.Clear().Append(text[(last + 1)..]);
            foreach (var record in text[..last].Split('\u001e'))
            {
                _records.Enqueue(JsonDocument.Parse(record).RootElement.Clone());
            }
        }
        return _records.Dequeue();
    }

    public async ValueTask DisposeAsync()
    {
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
        _socket.Dispose();
    }

    /// <summary>A SignalR JSON-protocol invocation frame.</summary>
    public static byte[] Invocation(string id, string target, string arguments) =>
        Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"{target}\",\"arguments\":{arguments}}}\u001e");
}

/// <summary>The fuzzer's current raw connection: replaced when the server closed the previous one.</summary>
internal sealed class HubHolder(RawHub hub) : IAsyncDisposable
{
    public RawHub Hub { get; set; } = hub;

    public ValueTask DisposeAsync() => Hub.DisposeAsync();
}
