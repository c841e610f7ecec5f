using EventSourcedChat.Contracts.Api;
using Microsoft.Extensions.Logging;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// The admin API's operations on the log runners (<see cref="IProjectionAdmin"/>): status from <see cref="RunnerStatus"/>
/// with the rebuilds this node runs, restarts through the database (they reach the owning node), rebuilds started here.
/// </summary>
internal sealed class ProjectionAdmin(
    LogRunners runners, RunnerStatus status, ProjectionRebuilder rebuilder, IEnumerable<Projection> projections,
    ILogger<ProjectionRebuilder> logger) : IProjectionAdmin
{
    public async Task<List<ProjectionStatusView>> StatusAsync(CancellationToken ct)
    {
        var rebuilds = rebuilder.Progress.ToDictionary(p => p.Projection);
        var states = await status.ReadAsync(runners.All, ct);
        return states.Select(s => new ProjectionStatusView(
            s.Name, s.State, s.Position, s.LagEvents, Math.Round(s.LagSeconds, 3), s.Owner, s.Error, s.FailedPosition, s.FailedEventId,
            rebuilds.GetValueOrDefault(s.Name), s.Position, s.HeadPosition, s.LagEvents)).ToList();
    }

    public async Task<bool> RequestRestartAsync(string name, CancellationToken ct)
    {
        if (runners.Find(name) is null)
        {
            return false;
        }
        await status.RequestRestartAsync(name, ct);
        return true;
    }

    public async Task<RebuildStart> StartRebuildAsync(string name, CancellationToken stopping)
    {
        var projection = projections.FirstOrDefault(p => p.Name == name);
        if (projection is null)
        {
            return RebuildStart.NotFound;
        }
        var rebuild = await rebuilder.TryStartAsync(projection, stopping);
        if (rebuild is null)
        {
            return RebuildStart.AlreadyRunning;
        }
        _ = rebuild.ContinueWith(
            t => logger.LogError(t.Exception, "Rebuild of {Projection} failed", name),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return RebuildStart.Started;
    }
}
