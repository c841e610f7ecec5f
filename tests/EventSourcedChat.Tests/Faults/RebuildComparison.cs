using EventSourcedChat.EventStore;
using EventSourcedChat.Projections.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Faults;

/// <summary>
/// Builds every projection from position 0 into a scratch schema (<c>check_{name}</c>) the way the runner applies
/// batches, and counts the rows that differ from the live read model (in either direction, table by table). The live
/// projections must have handled the whole log and nothing may be appended meanwhile.
/// </summary>
public static class RebuildComparison
{
    /// <summary>Every projection of the system (as the host registers them).</summary>
    public static IReadOnlyList<Projection> Projections { get; } = typeof(Projection).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Projection)) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (Projection)Activator.CreateInstance(t)!)
        .OrderBy(p => p.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>Differing rows per projection name.</summary>
    public static async Task<Dictionary<string, long>> DifferingRowsAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var projection in Projections)
        {
            var schema = $"check_{projection.Name}";
            var checkpoint = $"check:{projection.Name}";
            await ExecuteAsync(db, $"drop schema if exists {ProjectionSchemas.Quote(schema)} cascade", ct);
            await using (var delete = db.CreateCommand("delete from es_checkpoints where name = $1"))
            {
                delete.Parameters.AddWithValue(checkpoint);
                await delete.ExecuteNonQueryAsync(ct);
            }
            await new ProjectionSchemas(db).EnsureAsync(projection, schema, ct);
            var store = new PostgresEventStore(db, new EventStoreOptions(), TimeProvider.System);
            var at = LogCursor.Start;
            while (true)
            {
                var (events, _) = await store.ReadSubscriptionBatchAsync(at, 2_000, ct);
                if (events.Count == 0)
                {
                    break;
                }
                await using var conn = await db.OpenConnectionAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await ProjectionRunner.ApplyInTransactionAsync(tx, projection, schema, checkpoint, at, events, takeSwitchLock: false, ct);
                await tx.CommitAsync(ct);
                at = events[^1].Cursor;
            }
            long differing = 0;
            foreach (var table in await TablesAsync(db, schema, ct))
            {
                var live = $"{ProjectionSchemas.Quote(projection.Schema)}.{ProjectionSchemas.Quote(table)}";
                var fresh = $"{ProjectionSchemas.Quote(schema)}.{ProjectionSchemas.Quote(table)}";
                await using var cmd = db.CreateCommand($"""
                    select (select count(*) from (select * from {live} except all select * from {fresh}) a)
                         + (select count(*) from (select * from {fresh} except all select * from {live}) b)
                    """);
                differing += (long)(await cmd.ExecuteScalarAsync(ct))!;
            }
            result[projection.Name] = differing;
            await ExecuteAsync(db, $"drop schema {ProjectionSchemas.Quote(schema)} cascade; delete from es_checkpoints where name = '{checkpoint}'", ct);
        }
        return result;
    }

    private static async Task<List<string>> TablesAsync(NpgsqlDataSource db, string schema, CancellationToken ct)
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

    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
