using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace EventSourcedChat.RealtimeBench;

/// <summary>One <c>message.posted</c> envelope as the bench reads it: channel, seq and the text the sender wrote.</summary>
internal readonly record struct Posted(string ChannelId, long Seq, long Position, string Text);

/// <summary>
/// A lean SignalR client (JSON hub protocol, no negotiation) over <see cref="ClientWebSocket"/>: handshake, one
/// barrier invocation that waits until the hub registered the connection, one receive loop that reads every <c>event</c> invocation with a <see cref="Utf8JsonReader"/> (no DOM), and pings
/// sent by the owner (<see cref="PingAsync"/>) so the server's client timeout never fires. Unlike the test client it
/// keeps nothing: every <c>message.posted</c> goes to <see cref="Received"/> with the time its frame arrived.
/// </summary>
/// <remarks>
/// Raw frames on purpose, not Microsoft.AspNetCore.SignalR.Client (which the tests use): the load generator shares the
/// machine's cores with the server it measures, and HubConnection's per-message costs (a DOM per argument, a handler
/// dispatch, a task per invocation) would take CPU from the server and lower the figures measured.
/// </remarks>
internal sealed class HubSocket : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1e;
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");
    private readonly ClientWebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Action<HubSocket, Posted, long> _received;
    private readonly TaskCompletionSource _barrier = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _reader = Task.CompletedTask;

    private HubSocket(ClientWebSocket socket, int index, Action<HubSocket, Posted, long> received)
    {
        _socket = socket;
        Index = index;
        _received = received;
    }

    /// <summary>The bench client (and user) number.</summary>
    public int Index { get; }

    /// <summary>Records that were not <c>event</c>s, pings or completions (should stay 0).</summary>
    public int Unexpected { get; private set; }

    public bool Open => _socket.State == WebSocketState.Open;

    public static async Task<HubSocket> ConnectAsync(Uri gateway, string token, int index, Action<HubSocket, Posted, long> received, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // SignalR pings are enough
        socket.Options.SetBuffer(4096, 1024);
        await socket.ConnectAsync(new Uri(gateway, $"v1/gateway?access_token={Uri.EscapeDataString(token)}"), ct);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, ct);
        var buffer = new byte[1024];
        var answer = await socket.ReceiveAsync(buffer, ct);
        var text = Encoding.UTF8.GetString(buffer, 0, answer.Count);
        if (!text.StartsWith("{}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"handshake refused: {text}");
        }
        var hub = new HubSocket(socket, index, received);
        hub._reader = Task.Run(hub.ReadLoopAsync, CancellationToken.None);
        // The handshake answer comes before the hub's OnConnectedAsync (which registers the connection for its
        // channels); invocations are handled only after it, so the completion of one (here of a method that does
        // not exist) means every later post reaches this connection.
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"type\":1,\"invocationId\":\"b\",\"target\":\"__barrier\",\"arguments\":[]}\u001e"),
            WebSocketMessageType.Text, true, ct);
        await hub._barrier.Task.WaitAsync(ct);
        return hub;
    }

    public async Task PingAsync()
    {
        if (!Open || !await _sendLock.WaitAsync(0))
        {
            return;
        }
        try
        {
            await _socket.SendAsync(Ping, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var result = await _socket.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None);
                var at = Stopwatch.GetTimestamp();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                filled += result.Count;
                var start = 0;
                int end;
                while ((end = Array.IndexOf(buffer, RecordSeparator, start, filled - start)) >= 0)
                {
                    Handle(buffer.AsSpan(start, end - start), at);
                    start = end + 1;
                }
                if (start > 0)
                {
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// One hub record. Invocations look like <c>{"type":1,"target":"Event","arguments":[{"type":"message.posted",
    /// "channelId":..,"seq":..,"position":..,"at":..,"data":{..,"text":..}}]}</c>; the first <c>channelId</c>,
    /// <c>seq</c> and <c>position</c> are the envelope's, <c>text</c> is the message's.
    /// </summary>
    private void Handle(ReadOnlySpan<byte> record, long at)
    {
        var reader = new Utf8JsonReader(record);
        int kind = -1;
        string? type = null, channelId = null, text = null;
        long seq = -1, position = -1;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && kind < 0)
                {
                    kind = reader.GetInt32();
                }
                else if (reader.TokenType == JsonTokenType.String && type is null)
                {
                    type = reader.GetString();
                }
            }
            else if (reader.ValueTextEquals("channelId"u8) && channelId is null)
            {
                reader.Read();
                channelId = reader.GetString();
            }
            else if (reader.ValueTextEquals("seq"u8) && seq < 0)
            {
                reader.Read();
                seq = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : -1;
            }
            else if (reader.ValueTextEquals("position"u8) && position < 0)
            {
                reader.Read();
                position = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : -1;
            }
            else if (reader.ValueTextEquals("text"u8) && text is null)
            {
                reader.Read();
                text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
        }
        switch (kind)
        {
            case 1 when type == "message.posted" && channelId is not null && text is not null:
                _received(this, new Posted(channelId, seq, position, text), at);
                break;
            case 3:
                _barrier.TrySetResult();
                break;
            case 1 or 6:
                break; // other events (member changes at connect), pings
            default:
                Unexpected++;
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        await Task.WhenAny(_reader, Task.Delay(TimeSpan.FromSeconds(5)));
        _socket.Dispose();
        _sendLock.Dispose();
    }
}
