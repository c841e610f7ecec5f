using EventSourcedChat.EventStore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The real PostgreSQL started by scripts/services.sh. Tests run in their own database (ESC_TEST_DATABASE,
/// default esc_tests), migrated once; <see cref="ResetAsync"/> empties it before each test.
/// A missing server fails the test run; nothing is skipped.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public static string ServerConnectionString { get; } =
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
        ?? "Host=127.0.0.1;Port=55432;Username=esc;Password=esc;Database=esc";

    public static string DatabaseName { get; } =
        Environment.GetEnvironmentVariable("ESC_TEST_DATABASE") ?? "esc_tests";

    public string ConnectionString { get; } = WithDatabase(DatabaseName);

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public static string WithDatabase(string database) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = database, MaxPoolSize = 200 }.ConnectionString;

    public async Task InitializeAsync()
    {
        await CreateDatabaseAsync(DatabaseName, dropFirst: true);
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await new Migrator(DataSource).ApplyAsync(TestAssemblies.Migrations);
    }

    public async Task DisposeAsync() => await DataSource.DisposeAsync();

    public static async Task CreateDatabaseAsync(string name, bool dropFirst = false)
    {
        await using var admin = NpgsqlDataSource.Create(WithDatabase("postgres"));
        if (dropFirst)
        {
            await using var drop = admin.CreateCommand($"drop database if exists \"{name}\" with (force)");
            await drop.ExecuteNonQueryAsync();
        }
        await using var exists = admin.CreateCommand("select 1 from pg_database where datname = $1");
        exists.Parameters.AddWithValue(name);
        if (await exists.ExecuteScalarAsync() is null)
        {
            // A Unicode character classification lets pg_trgm index CJK text; byte-order collation keeps sorting fast.
            await using var create = admin.CreateCommand(
                $"create database \"{name}\" template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C.UTF-8'");
            await create.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Empties every table but the migration record and the Data Protection key ring (hosts cache it), and restarts identities.</summary>
    public async Task ResetAsync()
    {
        // A running host's projection batch locks read-model tables, then es_checkpoints; a truncate of every table can
        // take them in the other order and deadlock with it (and a projection that loses such a deadlock stops for
        // good). Every batch first takes its projection's switch lock shared, before touching any table, so holding
        // the switch locks exclusively for the truncate's transaction waits for running batches and keeps new ones out.
        // Readers outside the switch locks (the push worker, the runners' lag sampler, health and status queries) take
        // their tables' locks one by one too: PostgreSQL may pick the reset as a deadlock's victim. It then runs again
        // in a new transaction (the other side, if chosen, retries by itself).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = await DataSource.OpenConnectionAsync();
                await using var tx = await conn.BeginTransactionAsync();
                await TruncateAsync(tx);
                await tx.CommitAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
            }
        }
    }

    /// <summary>The reset's work inside <paramref name="tx"/>: the projections' switch locks, then the truncate of every table.</summary>
    public static async Task TruncateAsync(NpgsqlTransaction tx)
    {
        foreach (var key in ProjectionSwitchKeys)
        {
            await using var lockSwitch = new NpgsqlCommand("select pg_advisory_xact_lock($1)", tx.Connection, tx);
            lockSwitch.Parameters.AddWithValue(key);
            await lockSwitch.ExecuteNonQueryAsync();
        }
        await using var cmd = new NpgsqlCommand("""
            do $$
            declare tables text;
            begin
                select string_agg(format('%I.%I', schemaname, tablename), ', ') into tables
                  from pg_tables
                 where schemaname not in ('pg_catalog', 'information_schema')
                   and tablename not in ('schema_migrations', 'dp_keys');
                if tables is not null then
                    execute 'truncate ' || tables || ' restart identity cascade';
                end if;
            end $$;
            """, tx.Connection, tx);
        await cmd.ExecuteNonQueryAsync();
    }

    private static readonly long[] ProjectionSwitchKeys = typeof(Projections.Infrastructure.Projection).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Projections.Infrastructure.Projection)) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => Projections.Infrastructure.ProjectionSchemas.SwitchKey((Projections.Infrastructure.Projection)Activator.CreateInstance(t)!))
        .Order()
        .ToArray();

    public PostgresEventStore CreateStore(TimeProvider? time = null, EventStoreOptions? options = null) =>
        new(DataSource, options ?? new EventStoreOptions(), time ?? TimeProvider.System);

    public (CatchUpSubscription Subscription, AppendNotifier Notifier) CreateSubscription(EventStoreOptions? options = null)
    {
        options ??= new EventStoreOptions();
        var notifier = new AppendNotifier(DataSource, NullLogger<AppendNotifier>.Instance);
        return (new CatchUpSubscription(CreateStore(options: options), new CheckpointStore(DataSource), notifier, options), notifier);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
