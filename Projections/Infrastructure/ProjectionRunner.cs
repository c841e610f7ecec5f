using System.Globalization;
using EventSourcedChat.EventStore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// Runs the projections this node owns. A projection runs on one node at a time (a PostgreSQL advisory lock held for as
/// long as it runs; others stand by and take over when it goes). Each one catches up alone from its checkpoint, then
/// joins the node's <see cref="SharedReader"/>, which reads the log once for all the projections that have caught up and
/// applies each batch to all of them in one transaction. Every batch, alone or shared, moves each projection's
/// checkpoint in the same transaction as its rows, and only from where this runner left it.
/// </summary>
/// <remarks>
/// A projection never stops for good because of its environment: a lost connection or lease, a deadlock, a checkpoint
/// moved by a rebuild's switch-over, a plan invalidated by a schema change, or any error it does not recognise, ends the
/// run and starts another after a backoff, from the checkpoint in the database. It stops only when the same event fails
/// <see cref="ProjectionRunnerOptions.AttemptsBeforeFailing"/> runs in a row, each from a freshly loaded checkpoint on
/// fresh connections: then it records the event in <c>projection_status</c> (<c>failed</c>), keeps its lease so no
/// other node repeats the failure, and waits for an operator's restart (<see cref="RunnerStatus"/>).
/// </remarks>
public sealed class ProjectionRunner(
    IEnumerable<Projection> projections, NpgsqlDataSource db, CatchUpSubscription subscription, CheckpointStore checkpoints,
    ProjectionSchemas schemas, ProjectionRunnerOptions options, ILogger<ProjectionRunner> logger, ResilienceOptions? resilience = null,
    RunnerStatus? status = null) : BackgroundService
{
    private readonly RunnerStatus _status = status ?? new RunnerStatus(db);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var shared = new SharedReader(db, subscription,
            (part, ct) => ApplyBatchAsync(part.Projection, part.Projection.Schema, part.Projection.CheckpointName, part.From,
                new EventBatch(part.Events, part.Events[^1].Cursor), ct), logger);
        return Task.WhenAll(projections.Where(p => options.Runs(p.Name))
            .Select(p => Task.Run(() => RunWithLeaseAsync(p, shared, stoppingToken), stoppingToken))
            .Append(Task.Run(() => shared.RunAsync(stoppingToken), stoppingToken)));
    }

    private async Task RunWithLeaseAsync(Projection projection, SharedReader shared, CancellationToken ct)
    {
        // Restarts after an error wait a jittered, exponentially growing delay (bounded by Resilience:RetryMaxDelay).
        var backoff = (resilience ?? new ResilienceOptions()).NewBackoff();
        var failures = new RepeatedFailure();
        // A batch applied, alone or shared: the run is healthy again.
        void Healthy()
        {
            backoff.Reset();
            failures.Clear();
        }
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var lease = await Lease.TryTakeAsync(db, ProjectionSchemas.LeaseKey(projection), ct);
                if (lease is null)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(Random.Shared.Next(500)), ct);
                    continue;
                }
                await schemas.EnsureAsync(projection, projection.Schema, ct);
                var started = await _status.StartedAsync(projection.Name, ct);
                var restarted = await _status.RunUntilRestartAsync(projection.Name, started, async token =>
                {
                    LogCursor? left = null;
                    while (true)
                    {
                        // Alone from the checkpoint up to the head of the log, then with the others in the shared reader
                        // until something makes it leave (a switch-over elsewhere): then alone again, from the database.
                        var at = await CatchUpAloneAsync(projection, left, token, Healthy);
                        left = await shared.JoinAsync(projection, at, Healthy, token);
                    }
                }, ct);
                if (restarted)
                {
                    logger.LogInformation("Projection {Projection} restarted on request", projection.Name);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (ProjectionFailedException failed) when (failures.Add(failed.EventId) >= options.AttemptsBeforeFailing)
            {
                logger.LogError(failed, "Projection {Projection} stopped at position {Position} (event {EventId}) after {Attempts} attempts; "
                    + "it waits for POST /v1/admin/projections/{Projection}/restart", projection.Name, failed.Position, failed.EventId,
                    options.AttemptsBeforeFailing, projection.Name);
                try
                {
                    await WaitFailedAsync(projection, failed, ct);
                    failures.Clear();
                    backoff.Reset();
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    // Waiting needs the database too; without it, the next run finds out again.
                    logger.LogWarning(e, "Projection {Projection} could not wait for a restart; running again", projection.Name);
                    await Task.Delay(backoff.Next(), ct);
                }
            }
#pragma warning disable CA1031 // Whatever ended the run, the projection goes on after a backoff; only a repeated bad event stops it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                var delay = backoff.Next();
                if (e is LostLeaseException)
                {
                    // Expected when another runner or a rebuild's switch-over moved the checkpoint: start from where it is.
                    logger.LogInformation("Projection {Projection}: {Reason}; starting again from the checkpoint in {Delay}", projection.Name, e.Message, delay);
                }
                else
                {
                    logger.LogWarning(e, "Projection {Projection} interrupted; retrying in {Delay}", projection.Name, delay);
                }
                if (e is ProjectionFailedException)
                {
                    // Maybe the event is fine and a connection's prepared statements are stale (a table swapped under
                    // them): the next attempt runs on new connections.
                    db.Clear();
                }
                await TryRecordAsync(projection.Name, "retrying", e, ct);
                await Task.Delay(delay, ct);
            }
        }
    }

    /// <summary>
    /// Applies the log to <paramref name="projection"/> alone, batch after batch, from its checkpoint until a read comes back
    /// short of a full batch (it is at the head); answers where its checkpoint then stands.
    /// </summary>
    /// <remarks>
    /// Back from the shared reader (<paramref name="left"/>: where its checkpoint stood then), a checkpoint that someone
    /// else moved meanwhile (a rebuild's switch-over) ends the run as a batch fenced off alone does, so the run starts
    /// again from the checkpoint and records itself (<c>projection_status</c>) like any new run.
    /// </remarks>
    private async Task<LogCursor> CatchUpAloneAsync(Projection projection, LogCursor? left, CancellationToken ct, Action applied)
    {
        var at = await checkpoints.LoadAsync(projection.CheckpointName, ct);
        if (left is { } was && at != was)
        {
            throw new LostLeaseException($"Checkpoint {projection.CheckpointName} is no longer at {was}; another runner or a rebuild moved it.");
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var next = subscription.ReadAsync(at, stop.Token);
        try
        {
            while (true)
            {
                var (events, _) = await next;
                if (events.Count == 0)
                {
                    return at;
                }
                var full = events.Count == subscription.BatchSize;
                // Behind the head, the next batch is read while this one is applied: reading and applying overlap.
                next = full ? subscription.ReadAsync(events[^1].Cursor, stop.Token) : Task.FromResult(((IReadOnlyList<RecordedEvent>)[], false));
                await ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, at, new EventBatch(events, events[^1].Cursor), ct);
                at = events[^1].Cursor;
                applied();
                if (!full)
                {
                    return at;
                }
            }
        }
        finally
        {
            // A failed batch leaves a read under way: end it and observe its outcome.
            await stop.CancelAsync();
            await next.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// A failed projection keeps its lease, so no other node repeats the failure, until an operator restarts it. If
    /// another node took the lease in the meantime, this one stands by again.
    /// </summary>
    private async Task WaitFailedAsync(Projection projection, ProjectionFailedException failed, CancellationToken ct)
    {
        await using var lease = await Lease.TryTakeAsync(db, ProjectionSchemas.LeaseKey(projection), ct);
        if (lease is null)
        {
            return;
        }
        var since = await _status.StoppedAsync(projection.Name, "failed", failed, failed.Position, failed.EventId, ct);
        await _status.WaitForRestartAsync(projection.Name, since, ct);
        logger.LogInformation("Projection {Projection} restarted on request after failing at position {Position}", projection.Name, failed.Position);
    }

    private async Task TryRecordAsync(string name, string state, Exception e, CancellationToken ct)
    {
        try
        {
            await _status.StoppedAsync(name, state, e, null, null, ct);
        }
        catch (Exception recording) when (recording is NpgsqlException or TimeoutException)
        {
            logger.LogDebug(recording, "Could not record the state of {Projection}", name);
        }
    }

    /// <summary>How many runs in a row failed on the same event.</summary>
    private sealed class RepeatedFailure
    {
        private Guid _event;
        private int _count;

        public int Add(Guid eventId)
        {
            _count = eventId == _event ? _count + 1 : 1;
            _event = eventId;
            return _count;
        }

        public void Clear() => (_event, _count) = (Guid.Empty, 0);
    }

    /// <summary>
    /// Applies one batch and moves the checkpoint in one transaction and one round trip. When the SQL of the batch
    /// fails, applies the events one at a time to commit those before the bad one and name it exactly.
    /// </summary>
    public async Task ApplyBatchAsync(Projection projection, string schema, string checkpoint, LogCursor from, EventBatch batch, CancellationToken ct)
    {
        try
        {
            await ApplyAsync(projection, schema, checkpoint, from, batch.Events, ct);
        }
        catch (Exception e) when (ProjectionBatch.IsBadEvent(e) && batch.Events.Count > 1)
        {
            foreach (var one in batch.Events)
            {
                await ApplyOneAsync(projection, schema, checkpoint, from, one, ct);
                from = one.Cursor;
            }
        }
        catch (Exception e) when (ProjectionBatch.IsBadEvent(e))
        {
            throw new ProjectionFailedException(batch.Events[0], e);
        }
    }

    private async Task ApplyOneAsync(Projection projection, string schema, string checkpoint, LogCursor from, RecordedEvent one, CancellationToken ct)
    {
        try
        {
            await ApplyAsync(projection, schema, checkpoint, from, [one], ct);
        }
        catch (Exception e) when (ProjectionBatch.IsBadEvent(e))
        {
            throw new ProjectionFailedException(one, e);
        }
    }

    /// <remarks>
    /// Through <see cref="Transactions.RunAsync"/>: a batch whose connection Npgsql cannot reset after a failed statement
    /// must neither hide that statement's error nor leave its transaction open holding the checkpoint row (every retry
    /// of the projection would wait on it until the statement timeout).
    /// </remarks>
    private Task ApplyAsync(Projection projection, string schema, string checkpoint, LogCursor from, IReadOnlyList<RecordedEvent> events, CancellationToken ct) =>
        // Live batches take the switch lock shared; a rebuild's switch-over takes it exclusively.
        Transactions.RunAsync(db, (tx, token) =>
            ApplyInTransactionAsync(tx, projection, schema, checkpoint, from, events, takeSwitchLock: true, token), ct);

    /// <summary>Moves the checkpoint (fenced) and applies a batch's SQL within <paramref name="tx"/> (<see cref="ProjectionBatch"/>).</summary>
    internal static Task ApplyInTransactionAsync(
        NpgsqlTransaction tx, Projection projection, string schema, string checkpoint, LogCursor from,
        IReadOnlyList<RecordedEvent> events, bool takeSwitchLock, CancellationToken ct) =>
        ProjectionBatch.ApplyInTransactionAsync(tx, projection, schema, checkpoint, from, events, takeSwitchLock, ct);
}

public sealed class ProjectionFailedException(RecordedEvent failed, Exception inner)
    : Exception($"Applying {failed.Type} at position {failed.Position} ({failed.EventId}) failed: {inner.Message}", inner)
{
    public long Position { get; } = failed.Position;
    public Guid EventId { get; } = failed.EventId;
}

public sealed class LostLeaseException(string message) : Exception(message);
