using System.Net;
using System.Net.Sockets;

namespace EventSourcedChat.ApiBench;

/// <summary>
/// Accepts OTLP/HTTP posts on a loopback port, reads them and answers 200; counts requests and bytes. The
/// telemetry-cost modes of Api.Bench and Realtime.Bench (which links this file) point the host's exporter at it.
/// </summary>
internal sealed class DiscardingOtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private long _requests;
    private long _bytes;

    public DiscardingOtlpReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add($"{Endpoint}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Endpoint { get; }

    public long Requests => Interlocked.Read(ref _requests);

    public long Bytes => Interlocked.Read(ref _bytes);

    private async Task ServeAsync()
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            int read;
            while ((read = await context.Request.InputStream.ReadAsync(buffer)) > 0)
            {
                Interlocked.Add(ref _bytes, read);
            }
            Interlocked.Increment(ref _requests);
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}
