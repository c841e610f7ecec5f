using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// PostgreSQL's data exceptions (class 22: a NUL or an invalid byte in a text parameter, a value out of range) are bad
/// input that got past validation. With automatic preparation on (<see cref="ServiceCollectionExtensions.ForHostPool"/>),
/// one refused at Bind on the very call that prepares its statement leaves the connection out of step (Npgsql 10.0.3
/// records the statement as prepared without its row description; the connection's next use of it fails with
/// "Received unexpected backend message DataRow"). The input is refused at the API's edge; should one still reach
/// PostgreSQL, the pool is cleared so that no later command, of any caller, runs on that connection.
/// </summary>
public static class DataExceptions
{
    public static bool Is(Exception exception) => exception is PostgresException { SqlState: ['2', '2', _, _, _] };

    /// <summary>Closes every idle connection of the pool at once and every busy one at its return.</summary>
    public static void ClearPool(NpgsqlDataSource dataSource, ILogger logger, PostgresException exception)
    {
        logger.LogWarning("Bad input reached PostgreSQL ({SqlState}: {Message}); the connection pool is cleared", exception.SqlState, exception.MessageText);
        dataSource.Clear();
    }
}
