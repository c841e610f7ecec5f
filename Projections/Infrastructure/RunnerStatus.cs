using EventSourcedChat.Contracts.Api;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// Where each log runner (the projections and the push worker) stands, in <c>projection_status</c>: its state, the node
/// that owns it, when its current run began, its last error; and the operator's restart requests, which reach the
/// owning node through the same row whatever node received them.
/// </summary>
/// <remarks>
/// States: <c>not started</c> (no row); <c>running</c>; <c>retrying</c> (interrupted by its environment, trying again with backoff); <c>failed</c>
/// (an event it cannot apply; it waits, holding its lease, for a restart). A restart is a request time newer than the
/// owner's run: the owner polls for it (<see cref="PollInterval"/>) while it runs and while it waits.
/// </remarks>
public sealed class RunnerStatus(NpgsqlDataSource db) : ILogRunnerControl
{
    /// <summary>This process, as it appears in <c>owner</c>.</summary>
    public static string Node { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>How often an owner looks for a restart request.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Records a new run of <paramref name="name"/> on this node; answers the run's start (database time).</summary>
    public async Task<DateTime> StartedAsync(string name, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            insert into projection_status (name, state, owner, started_at, updated_at) values ($1, 'running', $2, now(), now())
            on conflict (name) do update set state = 'running', owner = excluded.owner, error = null, failed_position = null,
                failed_event_id = null, started_at = excluded.started_at, updated_at = now()
            returning started_at
            """);
        cmd.Parameters.AddWithValue(name);
        cmd.Parameters.AddWithValue(Node);
        return (DateTime)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Records that the run stopped: <c>retrying</c> after an error of its environment, <c>failed</c> on a bad event;
    /// answers when (database time), the point after which a restart request counts.
    /// </summary>
    public async Task<DateTime> StoppedAsync(string name, string state, Exception error, long? failedPosition, Guid? failedEventId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            insert into projection_status (name, state, owner, error, failed_position, failed_event_id, updated_at)
            values ($1, $2, $3, $4, $5, $6, now())
            on conflict (name) do update set state = excluded.state, owner = excluded.owner, error = excluded.error,
                failed_position = excluded.failed_position, failed_event_id = excluded.failed_event_id, updated_at = now()
            returning updated_at
            """);
        cmd.Parameters.AddWithValue(name);
        cmd.Parameters.AddWithValue(state);
        cmd.Parameters.AddWithValue(Node);
        cmd.Parameters.AddWithValue((error.InnerException ?? error).Message);
        cmd.Parameters.AddWithValue((object?)failedPosition ?? DBNull.Value);
        cmd.Parameters.AddWithValue((object?)failedEventId ?? DBNull.Value);
        return (DateTime)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Asks whichever node owns <paramref name="name"/> to restart it from its checkpoint.</summary>
    public async Task RequestRestartAsync(string name, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            insert into projection_status (name, state, restart_requested_at, updated_at) values ($1, 'restarting', clock_timestamp(), now())
            on conflict (name) do update set restart_requested_at = clock_timestamp()
            """);
        cmd.Parameters.AddWithValue(name);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Completes when a restart of <paramref name="name"/> is requested after <paramref name="since"/> (database time).</summary>
    public async Task WaitForRestartAsync(string name, DateTime since, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(PollInterval);
        while (await timer.WaitForNextTickAsync(ct))
        {
            await using var cmd = db.CreateCommand("select restart_requested_at > $2 from projection_status where name = $1");
            cmd.Parameters.AddWithValue(name);
            cmd.Parameters.AddWithValue(since);
            try
            {
                if (await cmd.ExecuteScalarAsync(ct) is true)
                {
                    return;
                }
            }
            catch (NpgsqlException) when (!ct.IsCancellationRequested)
            {
                // The run itself notices a lost database; a missed poll only delays a restart.
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="run"/> with a token that is also cancelled when a restart is requested after
    /// <paramref name="since"/>; answers true when it ended because of such a request.
    /// </summary>
    public async Task<bool> RunUntilRestartAsync(string name, DateTime since, Func<CancellationToken, Task> run, CancellationToken ct)
    {
        using var restart = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watch = WaitForRestartAsync(name, since, restart.Token);
        var watched = watch.ContinueWith(t => { if (t.IsCompletedSuccessfully) restart.Cancel(); },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await run(restart.Token);
            return false;
        }
        catch (OperationCanceledException) when (watch.IsCompletedSuccessfully && !ct.IsCancellationRequested)
        {
            return true;
        }
        finally
        {
            await restart.CancelAsync();
            await watched;
        }
    }

    /// <summary>
    /// Where every runner stands: state, owner, error, its checkpoint against the head of the log, and how long the
    /// oldest event it has not applied has been waiting (0 when it is caught up).
    /// </summary>
    public async Task<IReadOnlyList<RunnerState>> ReadAsync(IReadOnlyList<LogRunner> runners, CancellationToken ct)
    {
        // One round trip: the checkpoints' lag from the event store, then the runners' own rows.
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(CheckpointProgress.Lag([.. runners.Select(r => r.Checkpoint)]));
        var own = new NpgsqlBatchCommand("""
            select name, state, owner, error, failed_position, failed_event_id from projection_status where name = any($1)
            """);
        own.Parameters.AddWithValue(runners.Select(r => r.Name).ToArray());
        batch.BatchCommands.Add(own);
        await using var r = await batch.ExecuteReaderAsync(ct);
        var lags = new List<CheckpointLag>(runners.Count);
        while (await r.ReadAsync(ct))
        {
            lags.Add(CheckpointProgress.ReadLag(r));
        }
        await r.NextResultAsync(ct);
        var rows = new Dictionary<string, (string State, string? Owner, string? Error, long? FailedPosition, Guid? FailedEventId)>();
        while (await r.ReadAsync(ct))
        {
            rows[r.GetString(0)] = (r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                r.IsDBNull(4) ? null : r.GetInt64(4), r.IsDBNull(5) ? null : r.GetGuid(5));
        }
        return [.. runners.Select((runner, i) =>
        {
            var lag = lags[i];
            var row = rows.GetValueOrDefault(runner.Name, ("not started", null, null, null, null));
            return new RunnerState(runner.Name, row.State, lag.Position, lag.HeadPosition, Math.Max(0, lag.HeadPosition - lag.Position),
                lag.OldestPendingSeconds, row.Owner, row.Error, row.FailedPosition, row.FailedEventId);
        })];
    }
}

/// <summary>One runner as <see cref="RunnerStatus.ReadAsync"/> finds it.</summary>
public sealed record RunnerState(
    string Name, string State, long Position, long HeadPosition, long LagEvents, double LagSeconds, string? Owner,
    string? Error, long? FailedPosition, Guid? FailedEventId);
