using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// Applies versioned SQL scripts embedded in assemblies (resources named <c>*.Migrations.NNNN_name.sql</c>),
/// each once, in name order, under a session advisory lock so that several processes may start at once. Each applied
/// script's SHA-256 is recorded; a script whose text changed after it was applied stops the start-up with an error.
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

        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await Execute(conn, "select pg_advisory_lock(@k)", ct, LockKey);
        }
        catch
        {
            SessionState.Abandon(conn); // the lock may have been granted before the failure
            await conn.DisposeAsync();
            throw;
        }
        try
        {
            await Execute(conn, """
                create table if not exists schema_migrations (
                    id text primary key,
                    applied_at timestamptz not null default now());
                alter table schema_migrations add column if not exists checksum text
                """, ct);
            var applied = new Dictionary<string, string?>(StringComparer.Ordinal);
            await using (var cmd = new NpgsqlCommand("select id, checksum from schema_migrations", conn))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    applied[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
                }
            }

            var done = new List<string>();
            foreach (var script in scripts)
            {
                var sql = await ReadResource(script.Assembly, script.Resource, ct);
                var checksum = Checksum(sql);
                if (applied.TryGetValue(script.Id, out var recorded))
                {
                    if (recorded is null)
                    {
                        // Applied before checksums were recorded: record the text as it is now.
                        await Execute(conn, "update schema_migrations set checksum = @c where id = @id and checksum is null", ct,
                            parameters: [("c", checksum), ("id", script.Id)]);
                    }
                    else if (recorded != checksum)
                    {
                        throw new InvalidOperationException(
                            $"Migration {script.Id} was changed after it was applied (checksum {recorded} recorded, {checksum} now). "
                            + "An applied migration must never change: put the change in a new migration.");
                    }
                    continue;
                }
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = new NpgsqlCommand(sql, conn, tx))
                {
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await using (var cmd = new NpgsqlCommand("insert into schema_migrations (id, checksum) values (@id, @c)", conn, tx))
                {
                    cmd.Parameters.AddWithValue("id", script.Id);
                    cmd.Parameters.AddWithValue("c", checksum);
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                done.Add(script.Id);
            }
            return done;
        }
        finally
        {
            await SessionState.ReleaseAsync(conn, "select pg_advisory_unlock($1)", LockKey);
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

    /// <summary>SHA-256 of the script's text with its line endings as LF (a checkout with CRLF is the same script).</summary>
    private static string Checksum(string sql) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql.Replace("\r\n", "\n", StringComparison.Ordinal))));

    private static async Task Execute(NpgsqlConnection conn, string sql, CancellationToken ct, long? key = null,
        (string Name, object Value)[]? parameters = null)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        if (key is { } k)
        {
            cmd.Parameters.AddWithValue("k", k);
        }
        foreach (var (name, value) in parameters ?? [])
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
