using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Accepts OTLP/HTTP posts (protobuf) on a loopback port and keeps each body with its path: what a collector would get
/// from a node whose <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is <see cref="Endpoint"/>.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _bodies = new();

    public string Endpoint { get; }

    public OtlpReceiver()
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

    /// <summary>Whether a body posted to <paramref name="path"/> holds <paramref name="text"/> (protobuf keeps names and string attributes as UTF-8).</summary>
    public bool Received(string path, string text) =>
        _bodies.Any(b => b.Path == path && Encoding.UTF8.GetString(b.Body).Contains(text, StringComparison.Ordinal));

    /// <summary>Every span received so far on <c>/v1/traces</c>.</summary>
    public IReadOnlyList<OtlpSpan> Spans() =>
        _bodies.Where(b => b.Path == "/v1/traces").SelectMany(b => OtlpSpan.ParseExport(b.Body)).ToList();

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
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
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _bodies.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }
}
