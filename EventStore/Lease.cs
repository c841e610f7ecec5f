using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// A PostgreSQL session advisory lock held on a connection of its own for as long as the lease lives: one owner per key
/// across every node on the database (a projection, the push worker, the notification worker, a rebuild).
/// </summary>
/// <remarks>
/// Disposing unlocks explicitly before the connection goes back to the pool (which does not reset sessions); when the
/// unlock fails, the connection is closed instead (<see cref="SessionState"/>). A pooled connection still holding the
/// lock would keep every other node from taking over.
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
            // The lock may have been taken before the failure: the session must not be pooled.
            SessionState.Abandon(connection);
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    public ValueTask DisposeAsync() => SessionState.ReleaseAsync(_connection, "select pg_advisory_unlock($1)", _key);
}
