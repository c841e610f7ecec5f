using System.Globalization;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// How a batch of events reaches a projection's tables inside a transaction: the fenced checkpoint move first, then the
/// SQL its handlers queued, prepared, under the projection's <c>search_path</c>.
/// </summary>
internal static class ProjectionBatch
{
    /// <summary>
    /// An error the same event would raise again: its SQL or its data is wrong. Deadlocks, serialization failures,
    /// lost connections and shutdowns are transient: the runner retries them and the projection does not stop.
    /// </summary>
    public static bool IsBadEvent(Exception e) =>
        e is PostgresException { IsTransient: false } or System.Text.Json.JsonException or InvalidCastException;

    /// <summary>Moves the checkpoint (fenced) and applies a batch's SQL within <paramref name="tx"/>.</summary>
    public static async Task ApplyInTransactionAsync(
        NpgsqlTransaction tx, Projection projection, string schema, string checkpoint, LogCursor from,
        IReadOnlyList<RecordedEvent> events, bool takeSwitchLock, CancellationToken ct)
    {
        // A batch's rows and its checkpoint commit together, so a batch lost to a crash before its commit record reached
        // disk is simply applied again from the older checkpoint: the commit need not wait for the WAL flush.
        // The switch lock comes first, in its own unprepared batch: preparing the batch parses its statements, and
        // parsing already locks the tables they name, which must not happen before this lock (a rebuild's switch-over
        // and the test reset take it exclusively, then lock those tables).
        await using (var setup = new NpgsqlBatch(tx.Connection, tx))
        {
            if (takeSwitchLock)
            {
                setup.BatchCommands.Add(new NpgsqlBatchCommand($"select pg_advisory_xact_lock_shared({Key(projection)})"));
            }
            setup.BatchCommands.Add(new NpgsqlBatchCommand(SetSearchPath(schema)));
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
        await SendAsync(tx, projection, schema, events, setSearchPath: false, ct);
        await ResetSearchPathAsync(tx, ct);
    }

    /// <summary>
    /// Sends the SQL that <paramref name="projection"/>'s handlers queue for <paramref name="events"/>, with the search
    /// path set to <paramref name="schema"/> first unless the caller already set it (unqualified tables resolve there; it
    /// stays set for the transaction).
    /// </summary>
    public static async Task SendAsync(
        NpgsqlTransaction tx, Projection projection, string schema, IReadOnlyList<RecordedEvent> events, bool setSearchPath, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        if (!Queue(batch, projection, events))
        {
            return;
        }
        // The search path is set before the batch is prepared: statements resolve their unqualified tables when parsed
        // (and PostgreSQL re-plans a prepared statement when the search path differs, as in a rebuild's schema).
        if (setSearchPath)
        {
            await using var path = new NpgsqlCommand(SetSearchPath(schema), tx.Connection, tx);
            await path.ExecuteNonQueryAsync(ct);
        }
        // A projection sends the same few statement texts over and over: prepared once per physical connection, they
        // skip parsing and planning, which cost more than running them (each run of rows is one statement).
        await batch.PrepareAsync(ct);
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> the SQL that <paramref name="projection"/>'s handlers queue for
    /// <paramref name="events"/>; false when they queued none.
    /// </summary>
    public static bool Queue(NpgsqlBatch batch, Projection projection, IReadOnlyList<RecordedEvent> events)
    {
        var before = batch.BatchCommands.Count;
        var context = new EventContext(batch);
        foreach (var e in events)
        {
            projection.Apply(e, context);
        }
        context.Flush();
        return batch.BatchCommands.Count > before;
    }

    public const string ResetSearchPath = "set local search_path to default";

    public static async Task ResetSearchPathAsync(NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var reset = new NpgsqlCommand(ResetSearchPath, tx.Connection, tx);
        await reset.ExecuteNonQueryAsync(ct);
    }

    public static string SetSearchPath(string schema) => $"set local search_path to {ProjectionSchemas.Quote(schema)}, public";

    /// <summary>The projection's switch-lock key as SQL text.</summary>
    public static string Key(Projection projection) => ProjectionSchemas.SwitchKey(projection).ToString(CultureInfo.InvariantCulture);
}
