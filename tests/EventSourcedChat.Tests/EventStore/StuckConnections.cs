using System.Reflection;
using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.EventStore;

/// <summary>
/// A unit of work whose connection Npgsql cannot reset afterwards (its connector still marked as running a command:
/// seen under load in a projection runner, "A command is already in progress" from the connection's dispose after a
/// failed statement). Npgsql then neither rolls back nor returns nor breaks the physical connection: without care the
/// caller sees the dispose's error instead of its own, and the session stays open in its transaction, holding its
/// locks, for as long as the process lives.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StuckConnections(PostgresFixture db)
{
    [Fact]
    public async Task A_unit_of_work_whose_connection_cannot_be_reset_surfaces_its_own_error_and_its_session_ends()
    {
        // A data source of its own: the stuck connector stays counted as busy in its pool.
        await using var source = NpgsqlDataSource.Create(db.ConnectionString);
        var store = new PostgresEventStore(source, new EventStoreOptions(), TimeProvider.System);
        var pid = 0;

        var error = await Record.ExceptionAsync(() => store.InTransactionAsync<int>(async (tx, ct) =>
        {
            pid = tx.Connection!.ProcessID;
            await using (var write = new NpgsqlCommand("select pg_advisory_xact_lock(hashtextextended('stuck-connection-test', 0))", tx.Connection, tx))
            {
                await write.ExecuteNonQueryAsync(ct);
            }
            LeaveCommandInProgress(tx.Connection, new NpgsqlCommand("set local search_path to default", tx.Connection, tx));
            throw new TimeoutException("the statement's own failure");
        }));

        Assert.IsType<TimeoutException>(error);
        await Eventually.Until(async () =>
        {
            await using var session = db.DataSource.CreateCommand("select count(*) from pg_stat_activity where pid = $1");
            session.Parameters.AddWithValue(pid);
            return (long)(await session.ExecuteScalarAsync())!;
        }, left => left == 0, TimeSpan.FromSeconds(10), "the stuck session to end (and its transaction with it)");
    }

    [Fact]
    public async Task A_unit_of_work_that_fails_normally_keeps_its_connection_pooled()
    {
        await using var source = NpgsqlDataSource.Create(db.ConnectionString + ";Maximum Pool Size=1;Timeout=3");
        var store = new PostgresEventStore(source, new EventStoreOptions(), TimeProvider.System);
        int? first = null;

        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<PostgresException>(() => store.InTransactionAsync<int>(async (tx, ct) =>
            {
                first ??= tx.Connection!.ProcessID;
                Assert.Equal(first, tx.Connection!.ProcessID);
                await using var bad = new NpgsqlCommand("select 1/0", tx.Connection, tx);
                return (int)(await bad.ExecuteScalarAsync(ct))!;
            }));
        }
    }

    /// <summary>Puts the connector in the state Npgsql left it in: a user action (command) that never ended.</summary>
    private static void LeaveCommandInProgress(NpgsqlConnection connection, NpgsqlCommand command)
    {
        const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Instance;
        var connector = typeof(NpgsqlConnection).GetProperty("Connector", Internal)!.GetValue(connection)!;
        var state = connector.GetType().GetProperty("State", Internal)!;
        state.SetValue(connector, Enum.Parse(state.PropertyType, "Executing"));
        connector.GetType().GetField("_currentCommand", Internal)!.SetValue(connector, command);
    }
}
