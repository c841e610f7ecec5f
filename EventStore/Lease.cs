using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// A PostgreSQL session advisory lock held on a connection of its own for as long as the lease lives: one owner per key
/// across every node on the database (a projection, the push worker, the notification worker, a rebuild).
/// </summary>
/// <remarks>
/// Disposing unlocks explicitly before the connection goes back to the pool. Npgsql resets a pooled connection's session
/// (which would release the lock) only when the connection is next used, so without the unlock an idle pooled connection
/// would go on holding the lock, and keep every other node from taking over, until the pool prunes it.
/// </remarks>
public sealed class Lease : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;

    private Lease(NpgsqlConnection connection, long key) => (_connection, _key) = (connection, key);

    /// <summary>The lease on <paramref name="key"/>, or null when another session holds it.</summary>
    public static async Task<Lease?> TryTakeAsync(NpgsqlDataSource db, long key, CancellationToken ct)
    {
        var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await using var tryLock = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection);
            tryLock.Parameters.AddWithValue(key);
            if ((bool)(await tryLock.ExecuteScalarAsync(ct))!)
            {
                return new Lease(connection, key);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock($1)", _connection);
            unlock.Parameters.AddWithValue(_key);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await unlock.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or InvalidOperationException)
        {
            // A broken connection: its session, and the lock with it, ended on the server.
        }
        await _connection.DisposeAsync();
    }
}
