using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.EventStore;

[Collection(PostgresCollection.Name)]
public sealed class Migrations
{
    [Fact]
    public async Task Several_processes_migrating_a_fresh_database_at_once_apply_each_script_once()
    {
        var name = PostgresFixture.DatabaseName + "_migrations";
        await PostgresFixture.CreateDatabaseAsync(name, dropFirst: true);
        await using var dataSource = NpgsqlDataSource.Create(PostgresFixture.WithDatabase(name));

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(
            () => new Migrator(dataSource).ApplyAsync(TestAssemblies.Migrations))));

        Assert.Single(runs, applied => applied.Count > 0);
        await using var cmd = dataSource.CreateCommand("select count(*) from schema_migrations");
        Assert.Equal(runs.Sum(r => r.Count), (long)(await cmd.ExecuteScalarAsync())!);
        var store = new PostgresEventStore(dataSource, new EventStoreOptions(), TimeProvider.System);
        Assert.Equal(1, (await store.AppendAsync("works", ExpectedVersion.NoStream, [new EventData(Guid.NewGuid(), "t", "{}")])).Version);
    }

    [Fact]
    public async Task A_migration_changed_after_it_was_applied_stops_the_start_up_and_names_it()
    {
        var name = PostgresFixture.DatabaseName + "_changed";
        await PostgresFixture.CreateDatabaseAsync(name, dropFirst: true);
        await using var dataSource = NpgsqlDataSource.Create(PostgresFixture.WithDatabase(name));
        var applied = await new Migrator(dataSource).ApplyAsync(TestAssemblies.Migrations);
        // As if the script's text had been edited since: its recorded checksum no longer matches.
        await using (var edit = dataSource.CreateCommand("update schema_migrations set checksum = repeat('0', 64) where id = $1"))
        {
            edit.Parameters.AddWithValue(applied[0]);
            Assert.Equal(1, await edit.ExecuteNonQueryAsync());
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => new Migrator(dataSource).ApplyAsync(TestAssemblies.Migrations));

        Assert.Contains(applied[0], refused.Message, StringComparison.Ordinal);
        Assert.Contains("changed after it was applied", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrations_recorded_without_a_checksum_get_one_and_start_as_before()
    {
        var name = PostgresFixture.DatabaseName + "_legacy";
        await PostgresFixture.CreateDatabaseAsync(name, dropFirst: true);
        await using var dataSource = NpgsqlDataSource.Create(PostgresFixture.WithDatabase(name));
        var applied = await new Migrator(dataSource).ApplyAsync(TestAssemblies.Migrations);
        await using (var legacy = dataSource.CreateCommand("update schema_migrations set checksum = null"))
        {
            await legacy.ExecuteNonQueryAsync();
        }

        Assert.Empty(await new Migrator(dataSource).ApplyAsync(TestAssemblies.Migrations));

        await using var count = dataSource.CreateCommand("select count(*) from schema_migrations where checksum ~ '^[0-9a-f]{64}$'");
        Assert.Equal(applied.Count, (long)(await count.ExecuteScalarAsync())!);
    }
}
