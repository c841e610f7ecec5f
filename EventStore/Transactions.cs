using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// One unit of work on a pooled connection: open, begin, run, commit; and, when the work failed, a close that neither
/// hides the work's own error nor leaves the session open on the server.
/// </summary>
/// <remarks>
/// Npgsql (10.0.3) can leave a connector marked as still running a command after that command failed (seen under load:
/// "A command is already in progress: set local search_path to default" thrown by the connection's dispose, in a
/// projection runner). Closing such a connection then throws <see cref="NpgsqlOperationInProgressException"/> from its
/// reset before anything is sent: the transaction is not rolled back, the connector is neither returned to the pool
/// nor broken, and the session stays "idle in transaction" holding its locks (there: the projection's checkpoint row,
/// so every retry of the projection waited 30 s on it, for ten minutes) until the process ends. With a plain
/// <c>await using</c>, that dispose error also replaces the work's own exception, the one that explains the failure.
/// Here the work's exception is rethrown as is, and a session whose connection could not be closed is ended on the
/// server (<c>pg_terminate_backend</c>), which rolls its transaction back and frees its locks at once. The connector
/// itself stays counted as busy by the pool (Npgsql offers no way to break it from outside).
/// </remarks>
public static class Transactions
{
    /// <summary>Runs <paramref name="work"/> in a transaction on a connection of its own and commits it.</summary>
    public static async Task<T> RunAsync<T>(
        NpgsqlDataSource db, Func<NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken ct)
    {
        var conn = await db.OpenConnectionAsync(ct);
        var pid = conn.ProcessID;
        T result;
        try
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            result = await work(tx, ct);
            await tx.CommitAsync(ct);
        }
        catch
        {
            await CloseAfterFailureAsync(db, conn, pid);
            throw;
        }
        await conn.DisposeAsync();
        return result;
    }

    /// <summary>The same for work that answers nothing.</summary>
    public static Task RunAsync(NpgsqlDataSource db, Func<NpgsqlTransaction, CancellationToken, Task> work, CancellationToken ct) =>
        RunAsync<bool>(db, async (tx, token) =>
        {
            await work(tx, token);
            return true;
        }, ct);

    /// <summary>
    /// Closes a connection whose work failed; when it cannot be closed (its reset throws), ends its session on the
    /// server instead. Never throws: the caller rethrows the work's own error.
    /// </summary>
    public static async Task CloseAfterFailureAsync(NpgsqlDataSource db, NpgsqlConnection conn, int pid)
    {
        try
        {
            await conn.DisposeAsync();
            return;
        }
        catch (Exception e) when (e is InvalidOperationException or NpgsqlException)
        {
            // NpgsqlOperationInProgressException (an InvalidOperationException) or a failed rollback: the session may
            // still be inside the transaction.
        }
        try
        {
            // Only that session of this role on this database, and only if it is not plainly idle (nothing to free).
            await using var end = db.CreateCommand("""
                select pg_terminate_backend(pid) from pg_stat_activity
                 where pid = $1 and datname = current_database() and usename = current_user and state is distinct from 'idle'
                """);
            end.Parameters.AddWithValue(pid);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await end.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or InvalidOperationException)
        {
            // PostgreSQL itself unreachable: the session went with it, or idle_in_transaction_session_timeout ends it.
        }
    }
}
