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
}
