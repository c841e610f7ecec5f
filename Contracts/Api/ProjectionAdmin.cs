namespace EventSourcedChat.Contracts.Api;

/// <summary>
/// A runner as the admin API shows it. <c>position</c>, <c>lagEvents</c> and <c>lagSeconds</c> are the names of the
/// contract; <c>checkpointPosition</c>, <c>headPosition</c> and <c>lag</c> are kept for the clients of version 1.
/// </summary>
public sealed record ProjectionStatusView(
    string Name, string State, long Position, long LagEvents, double LagSeconds, string? Owner, string? Error,
    long? FailedPosition, Guid? FailedEventId, RebuildProgress? Rebuild, long CheckpointPosition, long HeadPosition, long Lag);

/// <summary>Where a rebuild stands: events applied into the new schema so far, and whether it has switched over.</summary>
public sealed record RebuildProgress(string Projection, long EventsApplied, string State, string? Error);

/// <summary>What asking for a rebuild did.</summary>
public enum RebuildStart
{
    Started,

    /// <summary>No projection has that name.</summary>
    NotFound,

    /// <summary>A rebuild of the same projection runs already, on this node or another.</summary>
    AlreadyRunning,
}

/// <summary>
/// The operations on the log runners (the projections and the push worker) that the admin API offers: their status,
/// restarts and rebuilds. Implemented by the projections module, which runs them; the host's admin endpoints call it
/// (the projections serve no HTTP).
/// </summary>
public interface IProjectionAdmin
{
    /// <summary>Every runner: state, owner, error, checkpoint against the head of the log, lag, and a rebuild under way.</summary>
    Task<List<ProjectionStatusView>> StatusAsync(CancellationToken ct);

    /// <summary>
    /// Asks the node that owns the runner, whichever it is, to start it again from its checkpoint; false when no runner
    /// has that name.
    /// </summary>
    Task<bool> RequestRestartAsync(string name, CancellationToken ct);

    /// <summary>Starts a rebuild in the background; <paramref name="stopping"/> ends the rebuild itself (the host's shutdown).</summary>
    Task<RebuildStart> StartRebuildAsync(string name, CancellationToken stopping);
}
