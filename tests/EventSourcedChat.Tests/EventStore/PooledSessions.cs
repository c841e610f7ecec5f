using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourcedChat.Tests.EventStore;

/// <summary>
/// The host's pool does not reset a connection it gets back (<see cref="ServiceCollectionExtensions.ForHostPool"/>): what
/// holds state in a session (a lease's advisory lock, a <c>LISTEN</c>) ends it before its connection is pooled again.
/// Each test uses a pool of one connection configured as the host's, so the next user gets the very session.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PooledSessions(PostgresFixture db) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly NpgsqlDataSource _hostPool = new NpgsqlDataSourceBuilder(ServiceCollectionExtensions.ForHostPool(db.ConnectionString))
    {
        ConnectionStringBuilder = { MaxPoolSize = 1 },
    }.Build();

    public Task InitializeAsync() => db.ResetAsync();

    public async Task DisposeAsync() => await _hostPool.DisposeAsync();

    [Fact]
    public void The_host_pool_prepares_statements_and_does_not_reset_sessions_unless_the_connection_string_says_so()
    {
        var settings = new NpgsqlConnectionStringBuilder(ServiceCollectionExtensions.ForHostPool(db.ConnectionString));
        Assert.True(settings.NoResetOnClose);
        Assert.Equal(ServiceCollectionExtensions.AutoPreparedPerConnection, settings.MaxAutoPrepare);

        var chosen = new NpgsqlConnectionStringBuilder(ServiceCollectionExtensions.ForHostPool(db.ConnectionString + ";No Reset On Close=false;Max Auto Prepare=0"));
        Assert.False(chosen.NoResetOnClose);
        Assert.Equal(0, chosen.MaxAutoPrepare);
    }

    [Fact]
    public async Task After_a_statement_is_refused_at_Bind_while_it_is_prepared_the_cleared_pool_answers_the_next_command_correctly()
    {
        const string sql = "select length($1::text), $1::text";
        async Task<(int, string)> RunAsync(string text)
        {
            await using var connection = await _hostPool.OpenConnectionAsync();
            await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = text } } };
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            return (reader.GetInt32(0), reader.GetString(1));
        }

        Assert.Equal((3, "ok1"), await RunAsync("ok1"));
        // The statement's second use on the connection prepares it; PostgreSQL refuses the NUL at Bind.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => RunAsync("bad\0"));
        Assert.True(DataExceptions.Is(refused), refused.SqlState);
        DataExceptions.ClearPool(_hostPool, NullLogger.Instance, refused);

        Assert.Equal((3, "ok2"), await RunAsync("ok2"));
        Assert.Equal((3, "ok3"), await RunAsync("ok3"));
    }

    [Fact]
    public async Task A_lease_given_back_can_be_taken_at_once_by_another_session()
    {
        const long key = 0x7465_7374_6C65_6173;
        var lease = await Lease.TryTakeAsync(_hostPool, key, CancellationToken.None);
        Assert.NotNull(lease);
        Assert.Null(await Lease.TryTakeAsync(db.DataSource, key, CancellationToken.None));

        await lease.DisposeAsync();

        await using var other = await Lease.TryTakeAsync(db.DataSource, key, CancellationToken.None);
        Assert.NotNull(other);
        await using var locks = _hostPool.CreateCommand("select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()");
        Assert.Equal(0L, await locks.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_stopped_append_listener_leaves_its_connection_listening_to_nothing()
    {
        var notifier = new AppendNotifier(_hostPool, NullLogger<AppendNotifier>.Instance);
        var ticket = notifier.NextAppend;
        await notifier.StartAsync(CancellationToken.None);
        await ticket.WaitAsync(Bound); // signalled once it listens

        await notifier.StopAsync(CancellationToken.None);

        await using var channels = _hostPool.CreateCommand("select count(*) from pg_listening_channels()");
        Assert.Equal(0L, await channels.ExecuteScalarAsync());
    }
}
