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
/// A projection that fails on an event stops with the event's position and id recorded in <c>projection_status</c>;
/// the others go on. It resumes when the process restarts.
/// </summary>
public sealed class ProjectionRunner(
    IEnumerable<Projection> projections, NpgsqlDataSource db, CatchUpSubscription subscription, CheckpointStore checkpoints,
    ProjectionSchemas schemas, ProjectionRunnerOptions options, ILogger<ProjectionRunner> logger, ResilienceOptions? resilience = null) : BackgroundService
{
    private static readonly string Node = $"{Environment.MachineName}:{Environment.ProcessId}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(projections.Where(p => options.Runs(p.Name))
            .Select(p => Task.Run(() => RunWithLeaseAsync(p, stoppingToken), stoppingToken)));

    private async Task RunWithLeaseAsync(Projection projection, CancellationToken ct)
    {
        // Restarts after a database error wait a jittered, exponentially growing delay (bounded by Resilience:RetryMaxDelay).
        var backoff = (resilience ?? new ResilienceOptions()).NewBackoff();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var lease = await db.OpenConnectionAsync(ct);
                await using (var tryLock = new NpgsqlCommand("select pg_try_advisory_lock($1)", lease))
                {
                    tryLock.Parameters.AddWithValue(ProjectionSchemas.LeaseKey(projection));
                    if (!(bool)(await tryLock.ExecuteScalarAsync(ct))!)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(Random.Shared.Next(500)), ct);
                        continue;
                    }
                }
                await schemas.EnsureAsync(projection, projection.Schema, ct);
                await SetStatusAsync(projection, "running", null, null, ct);
                backoff.Reset();
                var at = await checkpoints.LoadAsync(projection.CheckpointName, ct);
                await subscription.RunAsync(projection.CheckpointName, async (batch, token) =>
                {
                    await ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, at, batch, token);
                    at = batch.Checkpoint;
                }, CheckpointMode.ByHandler, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (ProjectionFailedException failed)
            {
                logger.LogError(failed, "Projection {Projection} stopped at position {Position} (event {EventId})",
                    projection.Name, failed.Position, failed.EventId);
                await SetStatusAsync(projection, "failed", failed, failed.InnerException?.Message, CancellationToken.None);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or LostLeaseException)
            {
                var delay = backoff.Next();
                logger.LogWarning(e, "Projection {Projection} interrupted; retrying in {Delay}", projection.Name, delay);
                await Task.Delay(delay, ct);
            }
        }
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

    private async Task ApplyAsync(Projection projection, string schema, string checkpoint, LogCursor from, IReadOnlyList<RecordedEvent> events, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Live batches take the switch lock shared; a rebuild's switch-over takes it exclusively.
        await ApplyInTransactionAsync(tx, projection, schema, checkpoint, from, events, takeSwitchLock: true, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Queues a batch's SQL and the fenced checkpoint move, and sends them in one round trip within <paramref name="tx"/>.</summary>
    internal static async Task ApplyInTransactionAsync(
        NpgsqlTransaction tx, Projection projection, string schema, string checkpoint, LogCursor from,
        IReadOnlyList<RecordedEvent> events, bool takeSwitchLock, CancellationToken ct)
    {
        // The search path is set before the batch is prepared: statements resolve their unqualified tables when parsed
        // (and PostgreSQL re-plans a prepared statement when the search path differs, as in a rebuild's schema).
        // A batch's rows and its checkpoint commit together, so a batch lost to a crash before its commit record reached
        // disk is simply applied again from the older checkpoint: the commit need not wait for the WAL flush.
        // The switch lock comes first, in its own unprepared command: preparing the batch parses its statements, and
        // parsing already locks the tables they name, which must not happen before this lock (a rebuild's switch-over
        // and the test reset take it exclusively, then lock those tables).
        var switchLock = takeSwitchLock
            ? $"select pg_advisory_xact_lock_shared({ProjectionSchemas.SwitchKey(projection).ToString(CultureInfo.InvariantCulture)}); "
            : "";
        await using (var setup = new NpgsqlCommand(
            $"{switchLock}set local search_path to {ProjectionSchemas.Quote(schema)}, public; set local synchronous_commit to off", tx.Connection, tx))
        {
            await setup.ExecuteNonQueryAsync(ct);
        }
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        var context = new EventContext(batch);
        foreach (var e in events)
        {
            projection.Apply(e, context);
        }
        context.Flush();
        batch.BatchCommands.Add(CheckpointStore.Advance(checkpoint, from, events[^1].Cursor));
        // A projection sends the same few statement texts over and over: prepared once per physical connection, they
        // skip parsing and planning, which cost more than running them (each run of rows is one statement).
        await batch.PrepareAsync(ct);
        await batch.ExecuteNonQueryAsync(ct);
        if (batch.BatchCommands[^1].RecordsAffected != 1)
        {
            throw new LostLeaseException($"Checkpoint {checkpoint} moved under this runner; another node owns {projection.Name}.");
        }
        await using var reset = new NpgsqlCommand("set local search_path to default", tx.Connection, tx);
        await reset.ExecuteNonQueryAsync(ct);
    }

    private async Task SetStatusAsync(Projection projection, string state, ProjectionFailedException? failed, string? error, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            insert into projection_status (name, state, owner, error, failed_position, failed_event_id, updated_at)
            values ($1, $2, $3, $4, $5, $6, now())
            on conflict (name) do update set state = excluded.state, owner = excluded.owner, error = excluded.error,
                failed_position = excluded.failed_position, failed_event_id = excluded.failed_event_id, updated_at = now()
            """);
        cmd.Parameters.AddWithValue(projection.Name);
        cmd.Parameters.AddWithValue(state);
        cmd.Parameters.AddWithValue(Node);
        cmd.Parameters.AddWithValue((object?)error ?? DBNull.Value);
        cmd.Parameters.AddWithValue((object?)failed?.Position ?? DBNull.Value);
        cmd.Parameters.AddWithValue((object?)failed?.EventId ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

public sealed class ProjectionFailedException(RecordedEvent failed, Exception inner)
    : Exception($"Applying {failed.Type} at position {failed.Position} ({failed.EventId}) failed: {inner.Message}", inner)
{
    public long Position { get; } = failed.Position;
    public Guid EventId { get; } = failed.EventId;
}

public sealed class LostLeaseException(string message) : Exception(message);
