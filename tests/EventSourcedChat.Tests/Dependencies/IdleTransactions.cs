using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedChat.Tests.Dependencies;

/// <summary>
/// A session of the host left idle inside a transaction (its client side broke before the rollback reached the server)
/// holds the cluster's snapshot horizon and stalls every subscription: PostgreSQL ends it after the host's limit.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class IdleTransactions(PostgresFixture db)
{
    [Fact]
    public async Task PostgreSQL_ends_a_host_session_left_idle_inside_a_transaction_once_the_limit_passes()
    {
        var resilience = new ResilienceOptions { IdleInTransactionTimeout = TimeSpan.FromSeconds(1) };
        await using var services = new ServiceCollection().AddEventStore(db.ConnectionString, resilience: resilience).BuildServiceProvider();
        var hostData = services.GetRequiredService<NpgsqlDataSource>();
        await using var conn = await hostData.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        int pid;
        await using (var open = new NpgsqlCommand("select pg_backend_pid()", conn, tx))
        {
            pid = (int)(await open.ExecuteScalarAsync())!;
        }

        await Eventually.Until(async () =>
        {
            await using var probe = db.DataSource.CreateCommand("select count(*) from pg_stat_activity where pid = $1");
            probe.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
            return (long)(await probe.ExecuteScalarAsync())!;
        }, sessions => sessions == 0, TimeSpan.FromSeconds(30), "PostgreSQL to end the idle transaction's session");

        await using var late = new NpgsqlCommand("select 1", conn, tx);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => late.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_host_sets_its_limit_on_every_session_unless_the_connection_string_sets_one()
    {
        await using var services = new ServiceCollection().AddEventStore(db.ConnectionString).BuildServiceProvider();
        await using var setting = services.GetRequiredService<NpgsqlDataSource>().CreateCommand("show idle_in_transaction_session_timeout");
        Assert.Equal("1min", await setting.ExecuteScalarAsync());

        var own = new ResilienceOptions().ForHost(db.ConnectionString + ";Options=-c idle_in_transaction_session_timeout=5000");
        Assert.Equal("-c idle_in_transaction_session_timeout=5000", new NpgsqlConnectionStringBuilder(own).Options);
        await using var ownData = NpgsqlDataSource.Create(own);
        await using var ownSetting = ownData.CreateCommand("show idle_in_transaction_session_timeout");
        Assert.Equal("5s", await ownSetting.ExecuteScalarAsync());
    }
}
