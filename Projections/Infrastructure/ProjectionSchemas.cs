using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>Creates a projection's schema and tables; names its advisory-lock keys.</summary>
public sealed class ProjectionSchemas(NpgsqlDataSource db)
{
    public async Task EnsureAsync(Projection projection, string schema, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Two nodes creating the same schema at once would collide; take turns.
        await using (var lockCmd = new NpgsqlCommand("select pg_advisory_xact_lock($1)", conn, tx))
        {
            lockCmd.Parameters.AddWithValue(Key("schema", schema));
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        await using var cmd = new NpgsqlCommand(
            $"create schema if not exists {Quote(schema)}; set local search_path to {Quote(schema)}, public; {projection.CreateSql}", conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Held (session lock) by the one node running the projection.</summary>
    public static long LeaseKey(Projection projection) => Key("lease", projection.Name);

    /// <summary>Held (session lock) by the one node rebuilding the projection: a second rebuild anywhere is refused.</summary>
    public static long RebuildKey(Projection projection) => Key("rebuild", projection.Name);

    /// <summary>Taken shared by every live batch and exclusively by a rebuild's switch-over.</summary>
    public static long SwitchKey(Projection projection) => Key("switch", projection.Name);

    private static long Key(string kind, string name) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"esc:{kind}:{name}")), 0);
}
