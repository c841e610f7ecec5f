using EventSourcedChat.EventStore;
using EventSourcedChat.Projections.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Builds projections from position 0 into scratch schemas the way the runner applies batches, and counts the rows
/// that differ between two schemas (in either direction, table by table, duplicates included). The one place tests
/// compare a read model with a build from scratch: the live projection must have handled the whole log, and nothing
/// may be appended meanwhile.
/// </summary>
public static class RebuildComparison
{
    /// <summary>Every projection of the system (as the host registers them).</summary>
    public static IReadOnlyList<Projection> Projections { get; } = typeof(Projection).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Projection)) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (Projection)Activator.CreateInstance(t)!)
        .OrderBy(p => p.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>The projection of that name.</summary>
    public static Projection Named(string name) => Projections.Single(p => p.Name == name);

    /// <summary>
    /// Builds <paramref name="projection"/> from position 0 into <paramref name="schema"/> (dropped first), with its
    /// own checkpoint <c>check:{schema}</c>, reading the whole log in batches of <paramref name="batchSize"/>.
    /// </summary>
    public static async Task BuildFromScratchAsync(
        NpgsqlDataSource db, Projection projection, string schema, int batchSize = 2_000, CancellationToken ct = default)
    {
        var checkpoint = $"check:{schema}";
        await ExecuteAsync(db, $"drop schema if exists {ProjectionSchemas.Quote(schema)} cascade", ct);
        await DeleteCheckpointAsync(db, checkpoint, ct);
        await new ProjectionSchemas(db).EnsureAsync(projection, schema, ct);
        var store = new PostgresEventStore(db, new EventStoreOptions(), TimeProvider.System);
        var total = await CountAsync(db, "select count(*) from es_events", ct);
        long read = 0;
        var at = LogCursor.Start;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (read < total)
        {
            // Subscriptions see a transaction's events once no older transaction is open anywhere on the server.
            var (events, _) = await store.ReadSubscriptionBatchAsync(at, batchSize, ct);
            if (events.Count == 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Building {projection.Name} from scratch: the log stayed invisible after {read} of {total} events");
                }
                await Task.Delay(20, ct);
                continue;
            }
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await ProjectionRunner.ApplyInTransactionAsync(tx, projection, schema, checkpoint, at, events, takeSwitchLock: false, ct);
            await tx.CommitAsync(ct);
            at = events[^1].Cursor;
            read += events.Count;
        }
    }

    /// <summary>Drops a schema built by <see cref="BuildFromScratchAsync"/> and its checkpoint.</summary>
    public static async Task DropAsync(NpgsqlDataSource db, string schema, CancellationToken ct = default)
    {
        await ExecuteAsync(db, $"drop schema if exists {ProjectionSchemas.Quote(schema)} cascade", ct);
        await DeleteCheckpointAsync(db, $"check:{schema}", ct);
    }

    /// <summary>
    /// Rows of <paramref name="left"/> missing from <paramref name="right"/> plus rows of <paramref name="right"/>
    /// missing from <paramref name="left"/>, counting duplicates, over <paramref name="tables"/> (by default the tables of
    /// <paramref name="right"/>, the reference).
    /// </summary>
    public static async Task<long> RowsDifferingAsync(
        NpgsqlDataSource db, string left, string right, IEnumerable<string>? tables = null, CancellationToken ct = default)
    {
        long differing = 0;
        foreach (var table in tables ?? await TablesAsync(db, right, ct))
        {
            var l = $"{ProjectionSchemas.Quote(left)}.{ProjectionSchemas.Quote(table)}";
            var r = $"{ProjectionSchemas.Quote(right)}.{ProjectionSchemas.Quote(table)}";
            differing += await CountAsync(db, $"""
                select (select count(*) from (select * from {l} except all select * from {r}) a)
                     + (select count(*) from (select * from {r} except all select * from {l}) b)
                """, ct);
        }
        return differing;
    }

    /// <summary>Differing rows per projection name: each live read model against a build from scratch (<c>check_{name}</c>, dropped after).</summary>
    public static async Task<Dictionary<string, long>> DifferingRowsAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var projection in Projections)
        {
            var schema = $"check_{projection.Name}";
            await BuildFromScratchAsync(db, projection, schema, ct: ct);
            result[projection.Name] = await RowsDifferingAsync(db, projection.Schema, schema, ct: ct);
            await DropAsync(db, schema, ct);
        }
        return result;
    }

    public static async Task<List<string>> TablesAsync(NpgsqlDataSource db, string schema, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("select tablename from pg_tables where schemaname = $1 order by 1");
        cmd.Parameters.AddWithValue(schema);
        var tables = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            tables.Add(reader.GetString(0));
        }
        return tables;
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task DeleteCheckpointAsync(NpgsqlDataSource db, string checkpoint, CancellationToken ct)
    {
        await using var delete = db.CreateCommand("delete from es_checkpoints where name = $1");
        delete.Parameters.AddWithValue(checkpoint);
        await delete.ExecuteNonQueryAsync(ct);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
