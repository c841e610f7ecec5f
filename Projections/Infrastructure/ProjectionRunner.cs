using System.Globalization;
using EventSourcedChat.EventStore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// Runs every registered projection as its own catch-up subscription. A projection runs on one node at a time
/// (a PostgreSQL advisory lock held for as long as it runs; others stand by and take over when it goes). Each batch
/// applies in one transaction with the checkpoint, and the checkpoint only moves from where this runner left it.
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

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(projections.Where(p => options.Runs(p.Name))
            .Select(p => Task.Run(() => RunWithLeaseAsync(p, stoppingToken), stoppingToken)));

    private async Task RunWithLeaseAsync(Projection projection, CancellationToken ct)
    {
        // Restarts after an error wait a jittered, exponentially growing delay (bounded by Resilience:RetryMaxDelay).
        var backoff = (resilience ?? new ResilienceOptions()).NewBackoff();
        var failures = new RepeatedFailure();
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
                    var at = await checkpoints.LoadAsync(projection.CheckpointName, token);
                    await subscription.RunAsync(projection.CheckpointName, async (batch, t) =>
                    {
                        await ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, at, batch, t);
                        at = batch.Checkpoint;
                        backoff.Reset();
                        failures.Clear();
                    }, CheckpointMode.ByHandler, token);
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
        catch (Exception e) when (IsBadEvent(e) && batch.Events.Count > 1)
        {
            foreach (var one in batch.Events)
            {
                await ApplyOneAsync(projection, schema, checkpoint, from, one, ct);
                from = one.Cursor;
            }
        }
        catch (Exception e) when (IsBadEvent(e))
        {
            throw new ProjectionFailedException(batch.Events[0], e);
        }
    }

    /// <summary>
    /// An error the same event would raise again: its SQL or its data is wrong. Deadlocks, serialization failures,
    /// lost connections and shutdowns are transient: the runner retries them and the projection does not stop.
    /// </summary>
    private static bool IsBadEvent(Exception e) =>
        e is PostgresException { IsTransient: false } or System.Text.Json.JsonException or InvalidCastException;

    private async Task ApplyOneAsync(Projection projection, string schema, string checkpoint, LogCursor from, RecordedEvent one, CancellationToken ct)
    {
        try
        {
            await ApplyAsync(projection, schema, checkpoint, from, [one], ct);
        }
        catch (Exception e) when (IsBadEvent(e))
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

    /// <summary>Moves the checkpoint (fenced) and applies a batch's SQL within <paramref name="tx"/>.</summary>
    internal static async Task ApplyInTransactionAsync(
        NpgsqlTransaction tx, Projection projection, string schema, string checkpoint, LogCursor from,
        IReadOnlyList<RecordedEvent> events, bool takeSwitchLock, CancellationToken ct)
    {
        // The search path is set before the batch is prepared: statements resolve their unqualified tables when parsed
        // (and PostgreSQL re-plans a prepared statement when the search path differs, as in a rebuild's schema).
        // A batch's rows and its checkpoint commit together, so a batch lost to a crash before its commit record reached
        // disk is simply applied again from the older checkpoint: the commit need not wait for the WAL flush.
        // The switch lock comes first, in its own unprepared batch: preparing the batch parses its statements, and
        // parsing already locks the tables they name, which must not happen before this lock (a rebuild's switch-over
        // and the test reset take it exclusively, then lock those tables).
        await using (var setup = new NpgsqlBatch(tx.Connection, tx))
        {
            if (takeSwitchLock)
            {
                setup.BatchCommands.Add(new NpgsqlBatchCommand(
                    $"select pg_advisory_xact_lock_shared({ProjectionSchemas.SwitchKey(projection).ToString(CultureInfo.InvariantCulture)})"));
            }
            setup.BatchCommands.Add(new NpgsqlBatchCommand($"set local search_path to {ProjectionSchemas.Quote(schema)}, public"));
            setup.BatchCommands.Add(new NpgsqlBatchCommand("set local synchronous_commit to off"));
            // The checkpoint moves first: a batch whose checkpoint is no longer where this runner left it (another
            // runner, a rebuild's switch-over or a deletion moved it) must not write a single row, or its rows would
            // collide with those already applied (a duplicate key is an error no retry can fix).
            setup.BatchCommands.Add(CheckpointStore.Advance(checkpoint, from, events[^1].Cursor));
            await setup.ExecuteNonQueryAsync(ct);
            if (setup.BatchCommands[^1].RecordsAffected != 1)
            {
                throw new LostLeaseException($"Checkpoint {checkpoint} is no longer at {from}; another runner or a rebuild moved it.");
            }
        }
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        var context = new EventContext(batch);
        foreach (var e in events)
        {
            projection.Apply(e, context);
        }
        context.Flush();
        if (batch.BatchCommands.Count > 0)
        {
            // A projection sends the same few statement texts over and over: prepared once per physical connection, they
            // skip parsing and planning, which cost more than running them (each run of rows is one statement).
            await batch.PrepareAsync(ct);
            await batch.ExecuteNonQueryAsync(ct);
        }
        await using var reset = new NpgsqlCommand("set local search_path to default", tx.Connection, tx);
        await reset.ExecuteNonQueryAsync(ct);
    }
}

public sealed class ProjectionFailedException(RecordedEvent failed, Exception inner)
    : Exception($"Applying {failed.Type} at position {failed.Position} ({failed.EventId}) failed: {inner.Message}", inner)
{
    public long Position { get; } = failed.Position;
    public Guid EventId { get; } = failed.EventId;
}

public sealed class LostLeaseException(string message) : Exception(message);
