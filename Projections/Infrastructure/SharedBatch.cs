using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>One projection's share of a batch of the shared reader: its events after its own checkpoint.</summary>
internal sealed record SharedPart(Projection Projection, LogCursor From, IReadOnlyList<RecordedEvent> Events);

/// <summary>A part whose checkpoint was no longer where its member left it; the shared batch wrote nothing.</summary>
internal sealed class SharedPartMovedException(SharedPart part)
    : Exception($"Checkpoint {part.Projection.CheckpointName} is no longer at {part.From}; another runner or a rebuild moved it.")
{
    public SharedPart Part { get; } = part;
}

/// <summary>
/// Applies a batch of the log to several projections in one transaction: each projection's checkpoint row moves
/// (fenced, as in <see cref="ProjectionBatch"/>) with its own rows, all committed at once.
/// </summary>
internal static class SharedBatch
{
    /// <summary>
    /// Applies every part whose projection's switch lock is free and answers the parts left out because the lock is held
    /// elsewhere (a rebuild's switch-over, the test reset): those apply nothing and wait for nobody here, so one blocked
    /// projection never holds up the others. Throws <see cref="SharedPartMovedException"/>, with nothing written, when
    /// a part's checkpoint moved.
    /// </summary>
    /// <remarks>Through <see cref="Transactions.RunAsync"/>: a batch whose connection cannot be reset after a failure
    /// rethrows its own error and never leaves its session idle in the transaction, holding the checkpoint rows.</remarks>
    public static Task<IReadOnlyList<SharedPart>> ApplyAsync(NpgsqlDataSource db, IReadOnlyList<SharedPart> parts, CancellationToken ct) =>
        Transactions.RunAsync(db, (tx, token) => ApplyInTransactionAsync(tx, parts, token), ct);

    private static async Task<IReadOnlyList<SharedPart>> ApplyInTransactionAsync(NpgsqlTransaction tx, IReadOnlyList<SharedPart> parts, CancellationToken ct)
    {
        var conn = tx.Connection!;
        // The switch locks first, before any statement names a table (see ProjectionBatch), tried rather than awaited.
        var held = new HashSet<long>();
        await using (var locks = new NpgsqlBatch(conn, tx))
        {
            var keys = new NpgsqlBatchCommand("select k, pg_try_advisory_xact_lock_shared(k) from unnest($1::bigint[]) k");
            keys.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. parts.Select(p => ProjectionSchemas.SwitchKey(p.Projection))] });
            locks.BatchCommands.Add(keys);
            locks.BatchCommands.Add(new NpgsqlBatchCommand("set local synchronous_commit to off"));
            await using var r = await locks.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                if (r.GetBoolean(1))
                {
                    held.Add(r.GetInt64(0));
                }
            }
        }
        var busy = parts.Where(p => !held.Contains(ProjectionSchemas.SwitchKey(p.Projection))).ToList();
        var applying = parts.Except(busy).ToList();
        if (applying.Count == 0)
        {
            return busy;
        }
        // The checkpoints move first, each only from where its member left it, before a single row is written.
        await using (var advance = new NpgsqlBatch(conn, tx))
        {
            foreach (var part in applying)
            {
                advance.BatchCommands.Add(CheckpointStore.Advance(part.Projection.CheckpointName, part.From, part.Events[^1].Cursor));
            }
            await advance.PrepareAsync(ct);
            await advance.ExecuteNonQueryAsync(ct);
            for (var i = 0; i < applying.Count; i++)
            {
                if (advance.BatchCommands[i].RecordsAffected != 1)
                {
                    throw new SharedPartMovedException(applying[i]);
                }
            }
        }
        // Then every part's SQL in one round trip (it took two per part: its search path, then its statements): each
        // part's statements follow its own search path in the batch, and PostgreSQL handles a batch's
        // messages in order, so they are parsed (or, prepared before under another path, analysed and planned again)
        // under that path. They are prepared by the pool's automatic preparation, in the same order; an explicit
        // Prepare would parse them all before any path is set.
        await using var rows = new NpgsqlBatch(conn, tx);
        foreach (var part in applying)
        {
            var path = new NpgsqlBatchCommand(ProjectionBatch.SetSearchPath(part.Projection.Schema));
            rows.BatchCommands.Add(path);
            if (!ProjectionBatch.Queue(rows, part.Projection, part.Events))
            {
                rows.BatchCommands.Remove(path);
            }
        }
        if (rows.BatchCommands.Count > 0)
        {
            rows.BatchCommands.Add(new NpgsqlBatchCommand(ProjectionBatch.ResetSearchPath));
            await rows.ExecuteNonQueryAsync(ct);
        }
        return busy;
    }
}
