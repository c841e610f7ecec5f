using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using JasperFx;
using Marten;
using Marten.Services;
using Npgsql;

// The spike that weighed Marten's document store against plain tables for the profile read model (issue 19).
// Each side runs in a process of its own, alternately (ABAB...), so start time and memory are the side's own:
//   dotnet run -c Release --project bench/Profiles.Bench [-- rounds N]
// Needs ConnectionStrings__Postgres (scripts/services.sh env); writes in the database named by ESC_BENCH_DATABASE
// (default esc_t_prof), in schemas spike_plain and spike_marten, which it drops at the end.
// What each side does, as the profile projection would inside the runner's transaction (batches of 100 events):
// N "registered" events (a new document or row), then N "status set" events (a change to an existing one).
var argsList = args.ToList();
var cs = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set (eval \"$(scripts/services.sh env)\")"))
{
    Database = Environment.GetEnvironmentVariable("ESC_BENCH_DATABASE") ?? "esc_t_prof",
}.ConnectionString;

if (argsList.Count >= 1 && argsList[0] is "plain" or "marten")
{
    var n = argsList.Count > 1 ? int.Parse(argsList[1], CultureInfo.InvariantCulture) : 5_000;
    Console.WriteLine(JsonSerializer.Serialize(await Side.RunAsync(argsList[0], cs, n)));
    return;
}

var rounds = argsList.Count > 1 && argsList[0] == "rounds" ? int.Parse(argsList[1], CultureInfo.InvariantCulture) : 5;
var results = new Dictionary<string, List<Figures>> { ["plain"] = [], ["marten"] = [] };
for (var round = 0; round < rounds; round++)
{
    foreach (var side in round % 2 == 0 ? new[] { "plain", "marten" } : ["marten", "plain"])
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!, [typeof(Side).Assembly.Location, side, "5000"])
        {
            RedirectStandardOutput = true,
        };
        if (!psi.FileName.EndsWith("dotnet", StringComparison.Ordinal))
        {
            psi = new ProcessStartInfo(Environment.ProcessPath!, [side, "5000"]) { RedirectStandardOutput = true };
        }
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        var figures = JsonSerializer.Deserialize<Figures>(output.Trim().Split('\n')[^1])!;
        results[side].Add(figures);
        Console.WriteLine($"round {round + 1} {side,-6} {output.Trim()}");
    }
}
await Side.DropAsync(cs);

static double Median(IEnumerable<double> xs)
{
    var s = xs.OrderBy(x => x).ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}

Console.WriteLine();
Console.WriteLine($"medians of {rounds} rounds (each side in its own process; marten/plain ratio)");
Console.WriteLine($"{"figure",-34} {"plain",10} {"marten",10} {"ratio",7}");
foreach (var (name, get) in new (string, Func<Figures, double>)[]
{
    ("ready: process start to first commit ms", f => f.ReadyMs),
    ("set-up (store/schema) ms", f => f.SetupMs),
    ("first batch ms", f => f.FirstBatchMs),
    ("new documents/s", f => f.InsertsPerSec),
    ("changes/s (status set)", f => f.UpdatesPerSec),
    ("reads by id/s", f => f.ReadsPerSec),
    ("working set MB", f => f.WorkingSetMb),
    ("GC heap MB", f => f.GcHeapMb),
    ("assemblies loaded", f => f.Assemblies),
})
{
    var (p, m) = (Median(results["plain"].Select(get)), Median(results["marten"].Select(get)));
    Console.WriteLine($"{name,-34} {p,10:0.0} {m,10:0.0} {m / p,7:0.00}");
}
Console.WriteLine($"marten code generation: {results["marten"][0].CodeGeneration}");

public sealed record Figures(
    double ReadyMs, double SetupMs, double FirstBatchMs, double InsertsPerSec, double UpdatesPerSec, double ReadsPerSec,
    double WorkingSetMb, double GcHeapMb, int Assemblies, string CodeGeneration);

public sealed class ProfileDoc
{
    public string Id { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public string? Title { get; set; }
    public string? TimeZone { get; set; }
    public StatusDoc? Status { get; set; }
}

public sealed record StatusDoc(string Emoji, string Text, DateTimeOffset? ExpiresAt);

public static class Side
{
    private const int Batch = 100;

    public static async Task<Figures> RunAsync(string side, string cs, int n)
    {
        var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var clock = Stopwatch.StartNew();
        await using var db = NpgsqlDataSource.Create(cs);
        IDocumentStore? store = null;
        if (side == "marten")
        {
            store = DocumentStore.For(o =>
            {
                o.Connection(cs);
                o.DatabaseSchemaName = "spike_marten";
                o.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                o.Schema.For<ProfileDoc>();
            });
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        }
        else
        {
            await using var ddl = db.CreateCommand("""
                create schema if not exists spike_plain;
                create table if not exists spike_plain.profiles (user_id text primary key, display_name text not null,
                    title text, time_zone text, status_emoji text, status_text text, status_expires_at timestamptz);
                """);
            await ddl.ExecuteNonQueryAsync();
        }
        var run = Guid.NewGuid().ToString("N")[..8];
        var ids = Enumerable.Range(0, n).Select(i => $"{run}{i:D8}").ToArray();
        await TruncateAsync(db, side);
        var setupMs = clock.Elapsed.TotalMilliseconds;

        var firstBatch = Stopwatch.StartNew();
        await WriteAsync(db, store, ids[..Batch], insert: true);
        var firstBatchMs = firstBatch.Elapsed.TotalMilliseconds;
        var readyMs = (DateTime.UtcNow - started).TotalMilliseconds;

        var inserts = Stopwatch.StartNew();
        for (var i = Batch; i < n; i += Batch)
        {
            await WriteAsync(db, store, ids[i..Math.Min(n, i + Batch)], insert: true);
        }
        var insertsPerSec = (n - Batch) / inserts.Elapsed.TotalSeconds;

        var updates = Stopwatch.StartNew();
        for (var i = 0; i < n; i += Batch)
        {
            await WriteAsync(db, store, ids[i..Math.Min(n, i + Batch)], insert: false);
        }
        var updatesPerSec = n / updates.Elapsed.TotalSeconds;

        var reads = Stopwatch.StartNew();
        for (var i = 0; i < n; i += 5)
        {
            var name = await ReadAsync(db, store, ids[i]);
            if (name is null)
            {
                throw new InvalidOperationException($"{side}: {ids[i]} not found");
            }
        }
        var readsPerSec = n / 5 / reads.Elapsed.TotalSeconds;

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        var assemblies = AppDomain.CurrentDomain.GetAssemblies();
        var roslyn = assemblies.Any(a => a.GetName().Name?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true);
        var codeGeneration = side == "marten"
            ? $"{JasperFx.CodeGeneration.TypeLoadMode.Dynamic} (default); Roslyn loaded: {roslyn}"
            : "none";
        store?.Dispose();
        return new Figures(readyMs, setupMs, firstBatchMs, insertsPerSec, updatesPerSec, readsPerSec,
            process.WorkingSet64 / 1048576.0, GC.GetTotalMemory(false) / 1048576.0, assemblies.Length, codeGeneration);
    }

    /// <summary>One runner batch: a checkpoint row moved and the batch's writes, in one transaction.</summary>
    private static async Task WriteAsync(NpgsqlDataSource db, IDocumentStore? store, string[] ids, bool insert)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        if (store is not null)
        {
            await using var session = store.LightweightSession(SessionOptions.ForTransaction(tx));
            if (insert)
            {
                foreach (var id in ids)
                {
                    session.Store(new ProfileDoc { Id = id, DisplayName = "user " + id, TimeZone = "Europe/Paris" });
                }
            }
            else
            {
                // The projection changes one field of an existing document: load it, change it, store it back.
                var docs = await session.LoadManyAsync<ProfileDoc>(ids);
                foreach (var doc in docs)
                {
                    doc.Status = new StatusDoc(":palm_tree:", "on holiday", DateTimeOffset.UtcNow.AddDays(1));
                    session.Store(doc);
                }
            }
            await session.SaveChangesAsync();
        }
        else
        {
            await using var batch = new NpgsqlBatch(conn, tx);
            foreach (var id in ids)
            {
                var command = insert
                    ? new NpgsqlBatchCommand("insert into spike_plain.profiles (user_id, display_name, time_zone) values ($1, $2, 'Europe/Paris')")
                    : new NpgsqlBatchCommand("update spike_plain.profiles set status_emoji = ':palm_tree:', status_text = 'on holiday', status_expires_at = $2 where user_id = $1");
                command.Parameters.Add(new NpgsqlParameter { Value = id });
                command.Parameters.Add(new NpgsqlParameter { Value = insert ? "user " + id : DateTimeOffset.UtcNow.AddDays(1) });
                batch.BatchCommands.Add(command);
            }
            await batch.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    private static async Task<string?> ReadAsync(NpgsqlDataSource db, IDocumentStore? store, string id)
    {
        if (store is not null)
        {
            await using var session = store.QuerySession();
            return (await session.LoadAsync<ProfileDoc>(id))?.DisplayName;
        }
        await using var cmd = db.CreateCommand("select display_name from spike_plain.profiles where user_id = $1");
        cmd.Parameters.AddWithValue(id);
        return await cmd.ExecuteScalarAsync() as string;
    }

    private static async Task TruncateAsync(NpgsqlDataSource db, string side)
    {
        await using var cmd = db.CreateCommand(side == "marten" ? "truncate spike_marten.mt_doc_profiledoc" : "truncate spike_plain.profiles");
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task DropAsync(string cs)
    {
        await using var db = NpgsqlDataSource.Create(cs);
        await using var cmd = db.CreateCommand("drop schema if exists spike_plain cascade; drop schema if exists spike_marten cascade");
        await cmd.ExecuteNonQueryAsync();
    }
}
