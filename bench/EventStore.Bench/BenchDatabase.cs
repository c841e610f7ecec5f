using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Bench;

/// <summary>
/// The benchmark's own database (<see cref="BenchSettings.DatabaseName"/>), dropped and recreated at start,
/// migrated like the application's, plus the <c>bench_raw</c> baseline table.
/// </summary>
public sealed class BenchDatabase : IAsyncDisposable
{
    private BenchDatabase(NpgsqlDataSource dataSource) => DataSource = dataSource;

    public NpgsqlDataSource DataSource { get; }

    public static async Task<BenchDatabase> CreateAsync(
        string serverConnectionString, bool noResetOnClose = false, IReadOnlyCollection<string>? experiments = null)
    {
        // Administrative commands go through the maintenance database, never the application's or the tests'.
        var admin = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres", Pooling = false };
        await using (var conn = new NpgsqlConnection(admin.ConnectionString))
        {
            await conn.OpenAsync();
            await Execute(conn, $"drop database if exists {BenchSettings.DatabaseName} with (force)");
            await Execute(conn, $"create database {BenchSettings.DatabaseName}");
        }

        // The application builds its data source from the plain connection string (ServiceCollectionExtensions);
        // only the database and the pool size differ here.
        var bench = new NpgsqlConnectionStringBuilder(serverConnectionString)
        {
            Database = BenchSettings.DatabaseName,
            MaxPoolSize = BenchSettings.PoolSize,
        };
        if (noResetOnClose)
        {
            bench.NoResetOnClose = true;
        }
        var dataSource = new NpgsqlDataSourceBuilder(bench.ConnectionString).Build();
        var db = new BenchDatabase(dataSource);
        await new Migrator(dataSource).ApplyAsync([typeof(PostgresEventStore).Assembly]);
        await Experiments.ApplyAsync(dataSource, experiments ?? []);
        await db.ExecuteAsync("""
            create table bench_raw (
                id         bigserial   primary key,
                stream     text        not null,
                version    bigint      not null,
                event_id   uuid        not null,
                type       text        not null,
                data       jsonb       not null,
                metadata   jsonb       not null,
                created_at timestamptz not null)
            """);
        return db;
    }

    /// <summary>Empties the log and the baseline table, so every cell starts from the same state.</summary>
    public Task ResetAsync() =>
        ExecuteAsync("truncate es_events, es_streams, es_checkpoints, bench_raw restart identity");

    /// <summary>Flushes dirty pages before a measured phase, so that one phase's writes are not paid by the next.</summary>
    public async Task CheckpointAsync()
    {
        try
        {
            await ExecuteAsync("checkpoint");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // Without the right to checkpoint, phases simply share the server's own checkpoint schedule.
        }
    }

    public async Task<IReadOnlyList<(string Name, string Value)>> ServerSettingsAsync()
    {
        await using var cmd = DataSource.CreateCommand("""
            select name, setting || coalesce(unit, '') from pg_settings
             where name in ('server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes',
                            'shared_buffers', 'max_wal_size', 'wal_level', 'max_connections', 'commit_delay')
             order by name
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        var settings = new List<(string, string)>();
        while (await reader.ReadAsync())
        {
            settings.Add((reader.GetString(0), reader.GetString(1)));
        }
        return settings;
    }

    public async Task<long> CountAsync(string table)
    {
        await using var cmd = DataSource.CreateCommand($"select count(*) from {table}");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 600;
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task Execute(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
