using System.Diagnostics.Metrics;
using EventSourcedChat.EventStore.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// Projection and push lag as gauges (<see cref="ChatMetrics.RunnerLagEvents"/>, <see cref="ChatMetrics.RunnerLagSeconds"/>,
/// one series per runner): sampled from the database every <c>Telemetry:LagSampleInterval</c> (5 s) by projector nodes,
/// the same figures as <c>chatctl projections status</c> and <c>/health/ready</c>; a collection reads the last sample.
/// </summary>
public sealed class RunnerLagMetrics : BackgroundService
{
    private readonly RunnerStatus _status;
    private readonly LogRunners _runners;
    private readonly ILogger<RunnerLagMetrics> _logger;
    private readonly TimeSpan _interval;
    private volatile IReadOnlyList<RunnerState> _last = [];

    public RunnerLagMetrics(IMeterFactory meters, RunnerStatus status, LogRunners runners, IConfiguration configuration, ILogger<RunnerLagMetrics> logger)
    {
        (_status, _runners, _logger) = (status, runners, logger);
        _interval = configuration.GetValue("Telemetry:LagSampleInterval", TimeSpan.FromSeconds(5));
        var meter = meters.Create(ChatMetrics.MeterName);
        meter.CreateObservableGauge(ChatMetrics.RunnerLagEvents,
            () => _last.Select(s => new Measurement<long>(s.LagEvents, new KeyValuePair<string, object?>(ChatMetrics.RunnerTag, s.Name))),
            "{event}", "Events between the runner's checkpoint and the head of the log");
        meter.CreateObservableGauge(ChatMetrics.RunnerLagSeconds,
            () => _last.Select(s => new Measurement<double>(s.LagSeconds, new KeyValuePair<string, object?>(ChatMetrics.RunnerTag, s.Name))),
            "s", "How long the oldest event the runner has not applied has waited");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval);
        do
        {
            try
            {
                _last = await _status.ReadAsync(_runners.All, stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                _logger.LogDebug(e, "Could not sample the runners' lag");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
