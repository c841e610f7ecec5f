using System.Data;
using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// Connections that hold state in their session outside any transaction: a session advisory lock (<see cref="Lease"/>,
/// the migrator, a file's completion lock) or a <c>LISTEN</c>. The host's pool does not reset a connection it gets back
/// (<c>No Reset On Close</c>, see <see cref="ServiceCollectionExtensions.ForHostPool"/>), so such a connection ends its state
/// itself before it goes back; when that fails, its session is closed instead of pooled.
/// </summary>
public static class SessionState
{
    /// <summary>Runs <paramref name="endSql"/> (an unlock, <c>unlisten *</c>) on the connection, then returns it to the pool;
    /// if the statement fails, the connection is closed rather than pooled, and its session (with the state) ends.</summary>
    public static async ValueTask ReleaseAsync(NpgsqlConnection connection, string endSql, object? parameter = null)
    {
        try
        {
            if (connection.State == ConnectionState.Open)
            {
                await using var end = new NpgsqlCommand(endSql, connection);
                if (parameter is not null)
                {
                    end.Parameters.Add(new NpgsqlParameter { Value = parameter });
                }
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await end.ExecuteNonQueryAsync(timeout.Token);
            }
        }
#pragma warning disable CA1031 // Whatever failed, the session may still hold the state: it must not be pooled.
        catch (Exception)
        {
            Abandon(connection);
        }
#pragma warning restore CA1031
        finally
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>Makes the connection close instead of going back to the pool when it is disposed (Npgsql closes every
    /// connection of the pool that is in use when it is cleared, at its return; the idle ones at once).</summary>
    public static void Abandon(NpgsqlConnection connection) => NpgsqlConnection.ClearPool(connection);
}
