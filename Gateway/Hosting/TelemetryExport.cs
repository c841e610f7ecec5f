using EventSourcedChat.EventStore.Telemetry;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>
/// OpenTelemetry export over OTLP, on when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the other
/// <c>OTEL_*</c> variables apply too); otherwise nothing is collected beyond the in-process instruments, and
/// <c>./run.sh</c> needs nothing. Metrics: the service's own meter (<see cref="ChatMetrics"/>), ASP.NET Core's HTTP,
/// Kestrel, SignalR-connection and rate-limiting meters, and Npgsql's; traces: ASP.NET Core and Npgsql.
/// </summary>
public static class TelemetryExport
{
    public const string ServiceName = "eventsourcedchat";

    public static WebApplicationBuilder AddTelemetryExport(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithMetrics(metrics => metrics
                .AddMeter(ChatMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddMeter("Microsoft.AspNetCore.Http.Connections", "Microsoft.AspNetCore.RateLimiting")
                .AddNpgsqlInstrumentation())
            .WithTracing(tracing => tracing
                .AddSource(ChatActivity.SourceName)
                .AddAspNetCoreInstrumentation()
                .AddNpgsql())
            .UseOtlpExporter();
        return builder;
    }
}
