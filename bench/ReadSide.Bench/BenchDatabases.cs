using Npgsql;

namespace EventSourcedChat.ReadSideBench;

/// <summary>The benches' own databases, dropped and created at each start (shared by the HTTP benches).</summary>
internal static class BenchDatabases
{
    /// <summary>Drops and creates <paramref name="name"/>; answers its connection string.</summary>
    public static async Task<string> ResetAsync(string adminConnectionString, string name)
    {
        // The maintenance database: the one named in the connection string need not exist.
        var admin = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = "postgres", Pooling = false };
        await using (var conn = new NpgsqlConnection(admin.ConnectionString))
        {
            await conn.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists {name} with (force)", conn);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"create database {name}", conn);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }
}
