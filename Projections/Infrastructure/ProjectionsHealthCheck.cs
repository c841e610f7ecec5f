using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// Degraded while a runner (a projection or the push worker) has failed, or has left an event unapplied for longer than
/// <c>Projections:MaxLagSeconds</c> (default 60): reads answer with old data, or pushes stop, until someone acts. The
/// description names each such runner with its position and error. A node still serves, so this is not "unhealthy".
/// </summary>
internal sealed class ProjectionsHealthCheck(RunnerStatus status, LogRunners runners, IConfiguration configuration) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var maxLag = configuration.GetValue("Projections:MaxLagSeconds", 60.0);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            var states = await status.ReadAsync(runners.All, timeout.Token);
            var behind = states
                .Where(s => s.State == "failed" || s.LagSeconds > maxLag)
                .Select(s => s.State == "failed"
                    ? $"{s.Name} failed at position {s.FailedPosition} (checkpoint {s.Position}, head {s.HeadPosition}): {s.Error}"
                    : $"{s.Name} is {s.State}, {s.LagEvents} events and {s.LagSeconds:0} s behind (checkpoint {s.Position}, head {s.HeadPosition}){(s.Error is null ? "" : ": " + s.Error)}")
                .ToList();
            return behind.Count == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Degraded(string.Join("; ", behind),
                    data: states.Where(s => s.State == "failed" || s.LagSeconds > maxLag).ToDictionary(s => s.Name, s => (object)s));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL does not answer", e);
        }
    }
}
