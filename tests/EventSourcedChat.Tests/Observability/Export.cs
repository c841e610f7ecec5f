using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EventSourcedChat.EventStore.Telemetry;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Observability;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a node sends its metrics and traces over OTLP/HTTP; here to a small
/// OTLP receiver in the test (protobuf bodies keep instrument names and span attributes as plain UTF-8).
/// </summary>
public sealed class Export(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task A_node_with_an_OTLP_endpoint_exports_its_metrics_and_the_traces_of_its_requests()
    {
        using var receiver = new OtlpReceiver();
        await using var node = new ChatHost(Db, new()
        {
            ["Roles"] = "api",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "300",
        });
        var ada = await RegisterAsync("ada", node);
        await ada.Ok("POST", "/v1/workspaces", new { name = "Acme" }, HttpStatusCode.Created);

        await Eventually.Until(() => receiver.Received("/v1/metrics", ChatMetrics.AppendDuration), TimeSpan.FromSeconds(20), "chat.append.duration exported");
        // A request's duration is recorded when its response ends, so it may come with a later export.
        await Eventually.Until(() => receiver.Received("/v1/metrics", "http.server.request.duration"), TimeSpan.FromSeconds(20), "ASP.NET Core's request duration exported");
        await Eventually.Until(() => receiver.Received("/v1/traces", "/v1/workspaces"), TimeSpan.FromSeconds(20), "the request's span exported");
        await Eventually.Until(() => receiver.Received("/v1/traces", "postgresql"), TimeSpan.FromSeconds(20), "Npgsql's spans exported");
    }

    [Fact]
    public async Task A_node_without_an_OTLP_endpoint_registers_no_exporter()
    {
        var ada = await RegisterAsync("ada");
        await ada.Ok("POST", "/v1/workspaces", new { name = "Acme" }, HttpStatusCode.Created);
        // The shared host has no endpoint: no OpenTelemetry provider collects or exports anything.
        Assert.Null(Host.Services.GetService(typeof(OpenTelemetry.Metrics.MeterProvider)));
        Assert.Null(Host.Services.GetService(typeof(OpenTelemetry.Trace.TracerProvider)));
    }

    /// <summary>Accepts OTLP/HTTP posts on a loopback port and keeps each body with its path.</summary>
    private sealed class OtlpReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly CancellationTokenSource _stop = new();

        public ConcurrentQueue<(string Path, string Body)> Bodies { get; } = new();

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

        public bool Received(string path, string text) =>
            Bodies.Any(b => b.Path == path && b.Body.Contains(text, StringComparison.Ordinal));

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
                Bodies.Enqueue((context.Request.Url!.AbsolutePath, Encoding.UTF8.GetString(body.ToArray())));
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
}
