using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace EventSourcedChat.RealtimeBench;

/// <summary>
/// Many idle hub connections on raw sockets. <see cref="System.Net.WebSockets.ClientWebSocket"/> cannot bind a local
/// address, and one source address has only ~28,000 ephemeral ports towards one server port, so each socket is
/// bound to 127.0.0.N:0 (N = 2, 3, ...) and does the WebSocket upgrade and the SignalR handshake by hand. Nothing is
/// kept per socket but the socket: <see cref="PingAll"/> sends each a masked ping frame (the server closes a
/// connection that sends nothing for 30 s) and drains what the server sent with one shared buffer.
/// </summary>
/// <remarks>
/// Raw sockets on purpose, not Microsoft.AspNetCore.SignalR.Client: it cannot bind a local address either, and tens of
/// thousands of HubConnections (timers, pipes and buffers each) would cost the client machine more than the server.
/// </remarks>
internal sealed class IdleConnections : IDisposable
{
    private readonly List<Socket> _sockets = [];
    private readonly Lock _gate = new();
    private readonly byte[] _drain = new byte[64 * 1024];
    private static readonly byte[] PingFrame = MaskedText("{\"type\":6}\u001e");
    private static readonly byte[] HandshakeFrame = MaskedText("{\"protocol\":\"json\",\"version\":1}\u001e");

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _sockets.Count;
            }
        }
    }

    public int Failed;

    public string? FirstError;

    /// <summary>Opens connections number <paramref name="startAt"/> to <paramref name="count"/> - 1, <paramref name="parallel"/> at a time, spread over source addresses.</summary>
    public async Task OpenAsync(IPEndPoint server, int count, int perAddress, Func<int, string> token, int parallel, TimeSpan budget, int startAt = 0)
    {
        using var stop = new CancellationTokenSource(budget);
        var next = startAt - 1;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count && !stop.IsCancellationRequested)
            {
                var source = new IPAddress([127, 0, 0, (byte)(2 + (i / perAddress))]);
                try
                {
                    var socket = await OpenOneAsync(server, source, token(i), stop.Token);
                    lock (_gate)
                    {
                        _sockets.Add(socket);
                    }
                }
                catch (Exception e) when (e is SocketException or IOException or InvalidOperationException or OperationCanceledException)
                {
                    Interlocked.Increment(ref Failed);
                    Interlocked.CompareExchange(ref FirstError, $"{source}: {e.GetType().Name}: {e.Message}", null);
                }
            }
        }));
    }

    private static async Task<Socket> OpenOneAsync(IPEndPoint server, IPAddress source, string token, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(server, ct);
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET /v1/gateway?access_token={Uri.EscapeDataString(token)} HTTP/1.1\r\nHost: {server}\r\n"
                          + $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, ct);
            var buffer = new byte[2048];
            var filled = 0;
            int headerEnd;
            while ((headerEnd = IndexOf(buffer, filled, "\r\n\r\n"u8)) < 0)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
                if (n == 0 || (filled += n) == buffer.Length)
                {
                    throw new IOException("upgrade: connection closed or answer too long");
                }
            }
            var status = Encoding.ASCII.GetString(buffer, 0, Math.Min(filled, 12));
            if (!status.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"upgrade refused: {Encoding.ASCII.GetString(buffer, 0, filled).Split('\r')[0]}");
            }
            await socket.SendAsync(HandshakeFrame, SocketFlags.None, ct);
            // The answer is one unmasked text frame "{}\x1e" (maybe followed by more frames).
            var frameStart = headerEnd + 4;
            while (filled - frameStart < 5)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
                if (n == 0)
                {
                    throw new IOException("handshake: connection closed");
                }
                filled += n;
            }
            var length = buffer[frameStart + 1] & 0x7f;
            var payload = Encoding.UTF8.GetString(buffer, frameStart + 2, Math.Min(length, filled - frameStart - 2));
            if (!payload.StartsWith("{}", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"handshake refused: {payload}");
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Pings every socket and drains what arrived; answers how many are still open.</summary>
    public int PingAll()
    {
        Socket[] sockets;
        lock (_gate)
        {
            sockets = [.. _sockets];
        }
        var open = 0;
        foreach (var socket in sockets)
        {
            try
            {
                while (socket.Available > 0)
                {
                    socket.Receive(_drain, SocketFlags.None);
                }
                // A closed peer shows as readable with nothing to read.
                if (socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0)
                {
                    continue;
                }
                socket.Send(PingFrame, SocketFlags.None);
                open++;
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
        return open;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
            _sockets.Clear();
        }
    }

    /// <summary>A client-to-server text frame (clients must mask; payloads here are under 126 bytes).</summary>
    private static byte[] MaskedText(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var mask = RandomNumberGenerator.GetBytes(4);
        var frame = new byte[6 + payload.Length];
        frame[0] = 0x81;
        frame[1] = (byte)(0x80 | payload.Length);
        mask.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    private static int IndexOf(byte[] buffer, int length, ReadOnlySpan<byte> value) => buffer.AsSpan(0, length).IndexOf(value);
}
