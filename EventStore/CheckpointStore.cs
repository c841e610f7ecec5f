using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.EventStore;

/// <summary>Durable named subscription checkpoints. Saving inside a caller's transaction moves the checkpoint
/// atomically with that caller's own writes (a projection's read model, for instance).</summary>
public sealed class CheckpointStore(NpgsqlDataSource dataSource)
{
    private const string Load = "select tx_id, position from es_checkpoints where name = $1";
    private const string Delete = "delete from es_checkpoints where name = $1";

    public async Task<LogCursor> LoadAsync(string name, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand(Load);
        return await LoadAsync(cmd, name, ct);
    }

    /// <summary>Reads the checkpoint inside the caller's transaction (sees its uncommitted moves).</summary>
    public static async Task<LogCursor> LoadAsync(string name, NpgsqlTransaction transaction, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand(Load, transaction.Connection, transaction);
        return await LoadAsync(cmd, name, ct);
    }

    private static async Task<LogCursor> LoadAsync(NpgsqlCommand cmd, string name, CancellationToken ct)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new LogCursor(reader.GetFieldValue<ulong>(0), reader.GetInt64(1))
            : LogCursor.Start;
    }

    private const string Upsert = """
        insert into es_checkpoints (name, tx_id, position, updated_at) values ($1, $2, $3, now())
        on conflict (name) do update set tx_id = excluded.tx_id, position = excluded.position, updated_at = now()
        """;

    public async Task SaveAsync(string name, LogCursor cursor, NpgsqlTransaction? transaction = null, CancellationToken ct = default)
    {
        if (transaction is not null)
        {
            await using var inTx = new NpgsqlCommand(Upsert, transaction.Connection, transaction);
            await Execute(inTx, name, cursor, ct);
            return;
        }
        await using var cmd = dataSource.CreateCommand(Upsert);
        await Execute(cmd, name, cursor, ct);
    }

    /// <summary>
    /// Saves an at-least-once subscriber's checkpoint without waiting for the commit's WAL flush
    /// (<c>synchronous_commit = off</c> for this one statement's implicit transaction). The subscriber goes on to its next
    /// read at once instead of after an fsync; a crash of PostgreSQL can lose the last such saves, and the subscriber then
    /// handles those batches again, which its at-least-once contract already allows (the push worker: gateways drop
    /// repeats by cursor). Never for a checkpoint that must move atomically with writes (see <see cref="Advance"/>).
    /// </summary>
    public async Task SaveProgressAsync(string name, LogCursor cursor, CancellationToken ct = default)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("select set_config('synchronous_commit', 'off', true)"));
        var save = new NpgsqlBatchCommand(Upsert);
        AddCursor(save.Parameters, name, cursor);
        batch.BatchCommands.Add(save);
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// A statement that moves the checkpoint from <paramref name="from"/> to <paramref name="to"/> only if it is still
    /// at <paramref name="from"/>: it affects one row, or none when the checkpoint is elsewhere (another runner or a
    /// rebuild's switch-over moved it) or, unless <paramref name="from"/> is <see cref="LogCursor.Start"/>, when it no
    /// longer exists (it was deleted). The caller then rolls back its transaction and reloads the checkpoint, so a
    /// projection never applies a batch twice. Sent before the batch's own writes, it also locks the checkpoint row for
    /// the transaction: two runners that overlap apply one after the other, and the second finds the checkpoint moved.
    /// </summary>
    /// <remarks>
    /// From <see cref="LogCursor.Start"/> there is no row to fence on, so the batch's last event must still be in the log:
    /// a batch read before the log was emptied (the test reset truncates the log and every checkpoint) would otherwise
    /// be applied to the emptied tables, with its checkpoint at a cursor of the old log, and the new log's events with
    /// the same keys would then fail as duplicates on every retry. Outside the reset the log only grows, so the check
    /// costs one index lookup on a runner's first batch and refuses nothing else (a refused batch is read again).
    /// </remarks>
    public static NpgsqlBatchCommand Advance(string name, LogCursor from, LogCursor to)
    {
        var command = new NpgsqlBatchCommand(from == LogCursor.Start
            ? """
              insert into es_checkpoints (name, tx_id, position, updated_at)
              select $1, $4, $5, now() where exists (select 1 from es_events where tx_id = $4 and position = $5)
              on conflict (name) do update set tx_id = excluded.tx_id, position = excluded.position, updated_at = now()
               where es_checkpoints.tx_id = $2 and es_checkpoints.position = $3
              """
            : """
              update es_checkpoints set tx_id = $4, position = $5, updated_at = now()
               where name = $1 and tx_id = $2 and position = $3
              """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<ulong> { TypedValue = from.TxId, NpgsqlDbType = NpgsqlDbType.Xid8 });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from.Position });
        command.Parameters.Add(new NpgsqlParameter<ulong> { TypedValue = to.TxId, NpgsqlDbType = NpgsqlDbType.Xid8 });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = to.Position });
        return command;
    }

    public async Task DeleteAsync(string name, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand(Delete);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Deletes the checkpoint inside the caller's transaction.</summary>
    public static async Task DeleteAsync(string name, NpgsqlTransaction transaction, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand(Delete, transaction.Connection, transaction);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Creates a checkpoint that does not exist yet at the last event, in subscription order, stored before
    /// <paramref name="before"/>, so a new subscriber skips the history before an instant. Only events below the
    /// snapshot's xmin count (nothing can later land behind the cursor). An existing checkpoint is left as it is, and on a
    /// log with no such event nothing is stored (the subscriber starts from the beginning). True when it was created.
    /// </summary>
    public async Task<bool> StartAtLastBeforeAsync(string name, DateTimeOffset before, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            insert into es_checkpoints (name, tx_id, position, updated_at)
            select $1, tx_id, position, now() from es_events
             where tx_id < pg_snapshot_xmin(pg_current_snapshot()) and created_at < $2
             order by tx_id desc, position desc limit 1
            on conflict (name) do nothing
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = before });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private static async Task Execute(NpgsqlCommand cmd, string name, LogCursor cursor, CancellationToken ct)
    {
        AddCursor(cmd.Parameters, name, cursor);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static void AddCursor(NpgsqlParameterCollection parameters, string name, LogCursor cursor)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        parameters.Add(new NpgsqlParameter<ulong> { TypedValue = cursor.TxId, NpgsqlDbType = NpgsqlDbType.Xid8 });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = cursor.Position });
    }
}
