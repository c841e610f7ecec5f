using Npgsql;

namespace EventSourcedChat.Commands.Infrastructure;

/// <summary>Small helpers for the write-side state statements that run inside an append's transaction.</summary>
public static class Sql
{
    public static async Task<int> ExecuteAsync(this NpgsqlTransaction tx, string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, tx.Connection, tx);
        foreach (var arg in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg ?? DBNull.Value });
        }
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The first column of the first row, or default when there is no row (or it is null).</summary>
    public static async Task<T?> ScalarAsync<T>(this NpgsqlTransaction tx, string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, tx.Connection, tx);
        foreach (var arg in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg ?? DBNull.Value });
        }
        return await cmd.ExecuteScalarAsync(ct) is T value ? value : default;
    }

    public static NpgsqlCommand Command(this NpgsqlDataSource dataSource, string sql, params object?[] args)
    {
        var cmd = dataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg ?? DBNull.Value });
        }
        return cmd;
    }

    /// <summary>
    /// First in a transaction whose statements are each a lookup by key, which a generic plan serves: they run on
    /// generic plans for the rest of the transaction. They are prepared, but PostgreSQL otherwise keeps planning a
    /// statement at every call when its generic plan looks dearer than the plans made for the values at hand: a post
    /// group's read cost 0.17 ms of planning a call, more than running it (docs/benchmarks.md "Run 8"), and the
    /// notification worker's recipients statement was planned anew for every post ("Run 12").
    /// </summary>
    public static NpgsqlBatchCommand GenericPlans() => new("select set_config('plan_cache_mode', 'force_generic_plan', true)");

    /// <summary>Adds a statement to a batch: the write side sends a command's state changes in one round trip.</summary>
    public static void Add(this NpgsqlBatch batch, string sql, params object?[] args)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg ?? DBNull.Value });
        }
        batch.BatchCommands.Add(command);
    }

    public static bool IsUniqueViolation(this PostgresException e, string constraint) =>
        e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == constraint;
}
