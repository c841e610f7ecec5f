using System.Reflection;
using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// Applies versioned SQL scripts embedded in assemblies (resources named <c>*.Migrations.NNNN_name.sql</c>),
/// each once, in name order, under a session advisory lock so that several processes may start at once.
/// </summary>
public sealed class Migrator(NpgsqlDataSource dataSource)
{
    private const long LockKey = 0x45534300_4D494752; // "ESC\0MIGR"

    public async Task<IReadOnlyList<string>> ApplyAsync(IEnumerable<Assembly> assemblies, CancellationToken ct = default)
    {
        var scripts = assemblies
            .SelectMany(a => a.GetManifestResourceNames()
                .Where(n => n.Contains(".Migrations.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
                .Select(n => (Assembly: a, Resource: n, Id: MigrationId(a, n))))
            .OrderBy(s => s.Id, StringComparer.Ordinal)
            .ToList();

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await Execute(conn, "select pg_advisory_lock(@k)", ct, LockKey);
        try
        {
            await Execute(conn, """
                create table if not exists schema_migrations (
                    id text primary key,
                    applied_at timestamptz not null default now())
                """, ct);
            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using (var cmd = new NpgsqlCommand("select id from schema_migrations", conn))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    applied.Add(reader.GetString(0));
                }
            }

            var done = new List<string>();
            foreach (var script in scripts.Where(s => !applied.Contains(s.Id)))
            {
                var sql = await ReadResource(script.Assembly, script.Resource, ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = new NpgsqlCommand(sql, conn, tx))
                {
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await using (var cmd = new NpgsqlCommand("insert into schema_migrations (id) values (@id)", conn, tx))
                {
                    cmd.Parameters.AddWithValue("id", script.Id);
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                done.Add(script.Id);
            }
            return done;
        }
        finally
        {
            await Execute(conn, "select pg_advisory_unlock(@k)", CancellationToken.None, LockKey);
        }
    }

    /// <summary>"EventStore/0001_event_store" from "EventSourcedChat.EventStore.Migrations.0001_event_store.sql".</summary>
    private static string MigrationId(Assembly assembly, string resource)
    {
        var file = resource[(resource.LastIndexOf(".Migrations.", StringComparison.Ordinal) + ".Migrations.".Length)..^".sql".Length];
        var module = assembly.GetName().Name!.Replace("EventSourcedChat.", "", StringComparison.Ordinal);
        return $"{file[..4]}-{module}-{file}";
    }

    private static async Task<string> ReadResource(Assembly assembly, string name, CancellationToken ct)
    {
        await using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Missing migration resource {name}");
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(ct);
    }

    private static async Task Execute(NpgsqlConnection conn, string sql, CancellationToken ct, long? key = null)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        if (key is { } k)
        {
            cmd.Parameters.AddWithValue("k", k);
        }
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
