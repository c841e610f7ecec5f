using System.Net;
using EventSourcedChat.EventStore.Telemetry;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Observability;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a node sends its metrics and traces over OTLP/HTTP; here to a small
/// OTLP receiver in the test (<see cref="OtlpReceiver"/>: protobuf bodies keep instrument names and span attributes as
/// plain UTF-8).
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
}
