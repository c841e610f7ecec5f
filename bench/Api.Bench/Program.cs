using EventSourcedChat.ReadSideBench;
using System.Diagnostics;
using System.Globalization;
using EventSourcedChat.ApiBench;
using Npgsql;

// End-to-end posting benchmark through the HTTP API of the real host, started as a separate process.
//   dotnet run -c Release --project bench/Api.Bench [-- --quick] [--gateway-dll PATH] [--port N]
//        [--warmup S] [--duration S] [--big-history N] [--samples N] [--clients 8,32]
//   dotnet run -c Release --project bench/Api.Bench -- --post-cost [--posts N] [--pg-log PATH] [--roles api|all]
//   dotnet run -c Release --project bench/Api.Bench -- --telemetry-cost [--rounds N] [--warmup S] [--duration S]
//   dotnet run -c Release --project bench/Api.Bench -- --thumbnails [--samples N] [--s3]
//   dotnet run -c Release --project bench/Api.Bench -- --avatars [--samples N] [--s3]
// Needs ConnectionStrings__Postgres (any database on the server; the bench drops and creates esc_apibench).

var quick = args.Contains("--quick");
var warmup = TimeSpan.FromSeconds(Option("--warmup", quick ? 0.5 : 1));
var duration = TimeSpan.FromSeconds(Option("--duration", quick ? 2 : 5));
var bigHistory = (long)Option("--big-history", quick ? 100_000 : 1_000_000);
const long SmallHistory = 1_000;
var samples = (int)Option("--samples", quick ? 200 : 500);
var port = (int)Option("--port", 0);
int[] clientCounts = OptionText("--clients") is { } counts
    ? counts.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray()
    : [8, 32];
const int ManyChannels = 1_000;
const double FlatnessTarget = 1.2;

var adminConnection = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("Set ConnectionStrings__Postgres (the bench uses its own database esc_apibench on that server).");
var dll = OptionText("--gateway-dll") ?? GatewayProcess.DefaultDll();
if (!File.Exists(dll))
{
    throw new FileNotFoundException($"{dll} not found; build it first: dotnet build Gateway/Gateway.csproj -c Release", dll);
}

if (args.Contains("--post-cost"))
{
    // The write path's cost per post (api role only): see PostCostBench.
    var costDatabase = await BenchDatabases.ResetAsync(adminConnection, BenchDatabase.Name);
    return await PostCostBench.RunAsync(dll, costDatabase, OptionText("--pg-log"), (int)Option("--posts", 2000), OptionText("--roles") == "all");
}

if (args.Contains("--telemetry-cost"))
{
    // Telemetry off and on, alternating rounds on one database: see TelemetryCostBench.
    var telemetryDatabase = await BenchDatabases.ResetAsync(adminConnection, BenchDatabase.Name);
    Console.WriteLine($"Api.Bench --telemetry-cost: {Environment.ProcessorCount} cores, {Option("--rounds", 3)} rounds of {warmup.TotalSeconds} s + {duration.TotalSeconds} s per side");
    return await TelemetryCostBench.RunAsync(dll, telemetryDatabase, (int)Option("--rounds", 3), warmup, duration);
}

if (args.Contains("--thumbnails"))
{
    // Time to first byte of an image's thumbnail against its original: see ThumbnailBench.
    var thumbDatabase = await BenchDatabases.ResetAsync(adminConnection, BenchDatabase.Name);
    return await ThumbnailBench.RunAsync(dll, thumbDatabase, (int)Option("--samples", 50), args.Contains("--s3"));
}

if (args.Contains("--avatars"))
{
    // Time to first byte of an avatar's sizes, and what setting one costs: see AvatarBench.
    var avatarDatabase = await BenchDatabases.ResetAsync(adminConnection, BenchDatabase.Name);
    return await AvatarBench.RunAsync(dll, avatarDatabase, (int)Option("--samples", 30), args.Contains("--s3"));
}

var total = Stopwatch.StartNew();
Console.WriteLine($"Api.Bench: {Environment.ProcessorCount} cores, {(quick ? "quick" : "full")} run, warm-up {warmup.TotalSeconds} s + {duration.TotalSeconds} s per cell");
var connectionString = await BenchDatabases.ResetAsync(adminConnection, BenchDatabase.Name);
Console.WriteLine($"database {BenchDatabase.Name} dropped and created");

using var gateway = GatewayProcess.Start(dll, connectionString, port);
try
{
    Console.WriteLine($"gateway pid {gateway.Pid} at {gateway.BaseAddress} ({dll})");
    using var http = ChatApi.CreateClient(gateway.BaseAddress);
    await gateway.WaitLiveAsync(http, TimeSpan.FromSeconds(90));
    var api = new ChatApi(http);
    await using var db = NpgsqlDataSource.Create(connectionString);

    // Setup through the API: one workspace, its admin, and one user per concurrent client.
    var admin = await api.RegisterAsync("admin");
    var workspace = await api.CreateWorkspaceAsync(admin, "Bench");
    var users = new BenchUser[clientCounts.Max()];
    await Parallel.ForAsync(0, users.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
        async (i, _) => users[i] = await api.RegisterAsync($"client{i}"));
    foreach (var user in users)
    {
        await api.AddMemberAsync(admin, workspace, user);
    }

    var one = await api.CreateChannelAsync(admin, workspace, "bench-one");
    var joinAvailable = await api.TryJoinAsync(users[0], one);
    if (joinAvailable)
    {
        foreach (var user in users.Skip(1))
        {
            await api.TryJoinAsync(user, one);
        }
    }
    Console.WriteLine(joinAvailable
        ? "POST /v1/channels/{ch}/join is available: in the 1-channel cells every client posts as its own user"
        : "POST /v1/channels/{ch}/join is not available (404): in the 1-channel cells all clients share the admin's token");

    var manyChannels = new Dictionary<int, string[]>();
    foreach (var clients in clientCounts)
    {
        var ids = new string[ManyChannels];
        await Parallel.ForAsync(0, ManyChannels, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (j, _) => ids[j] = await api.CreateChannelAsync(users[j % clients], workspace, $"c{clients}-{j}"));
        manyChannels[clients] = ids;
    }
    Console.WriteLine($"setup done in {total.Elapsed.TotalSeconds:F0} s: {users.Length} users, {1 + (clientCounts.Length * ManyChannels)} channels");

    var cells = new List<CellResult>();
    foreach (var clients in clientCounts)
    {
        var shared = joinAvailable ? null : admin;
        var oneClients = Enumerable.Range(0, clients).Select(i => new PostingClient(shared ?? users[i], [one])).ToList();
        cells.Add(Report(await PostingBench.RunAsync(api, "1ch", 1, joinAvailable ? "own users" : "one shared user",
            oneClients, warmup, duration)));
    }
    foreach (var clients in clientCounts)
    {
        var ids = manyChannels[clients];
        var manyClients = Enumerable.Range(0, clients)
            .Select(i => new PostingClient(users[i], ids.Where((_, j) => j % clients == i).ToList())).ToList();
        cells.Add(Report(await PostingBench.RunAsync(api, "1000ch", ManyChannels, $"own users, {ManyChannels / clients}-{(ManyChannels + clients - 1) / clients} own channels each",
            manyClients, warmup, duration)));
    }

    // Flatness: one channel with 1,000 messages beside one with bigHistory messages, filled in the database directly.
    var small = await api.CreateChannelAsync(admin, workspace, "flat-small");
    var big = await api.CreateChannelAsync(admin, workspace, "flat-big");
    var fill = Stopwatch.StartNew();
    await BenchDatabase.FillChannelAsync(db, small, admin.UserId, SmallHistory, 1_000);
    await BenchDatabase.FillChannelAsync(db, big, admin.UserId, bigHistory, 1_000, done =>
    {
        if (done % 100_000 == 0)
        {
            Console.WriteLine($"  filled {done:N0} of {bigHistory:N0} ({fill.Elapsed.TotalSeconds:F0} s)");
        }
    });
    Console.WriteLine($"history filled in {fill.Elapsed.TotalSeconds:F0} s (es_append in batches of 1,000)");
    Console.WriteLine($"  small: {await BenchDatabase.VerifyChannelAsync(db, small)}");
    Console.WriteLine($"  big:   {await BenchDatabase.VerifyChannelAsync(db, big)}");
    await BenchDatabase.VacuumAnalyzeAsync(db);
    var flat = await FlatnessBench.RunAsync(api, admin, small, SmallHistory, big, bigHistory, samples, warmup: 50);

    PrintTable(cells, flat);
    Console.WriteLine($"total {total.Elapsed.TotalSeconds:F0} s");
    return flat.Ratio <= FlatnessTarget ? 0 : 2;
}
catch
{
    Console.Error.WriteLine($"gateway output (last lines):\n{gateway.Output}");
    throw;
}
finally
{
    gateway.Dispose();
    Console.WriteLine($"gateway pid {gateway.Pid} stopped");
}

CellResult Report(CellResult r)
{
    Console.WriteLine($"  {r.Name,-6} {r.Clients,2} clients: {r.PerSecond,8:F0} msgs/s  p50 {r.P50Ms,6:F2} ms  p99 {r.P99Ms,7:F2} ms  errors {r.Errors}"
        + (r.FirstError is null ? "" : $" (first: {r.FirstError})"));
    return r;
}

void PrintTable(List<CellResult> cells, FlatnessResult flat)
{
    Console.WriteLine();
    Console.WriteLine($"Posting throughput, POST /v1/channels/{{ch}}/messages, {duration.TotalSeconds} s per cell after {warmup.TotalSeconds} s warm-up");
    Console.WriteLine();
    Console.WriteLine("| channels | clients | posters | msgs/s | p50 ms | p99 ms | errors (incl. warm-up) |");
    Console.WriteLine("|---:|---:|---|---:|---:|---:|---:|");
    foreach (var r in cells)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {r.Channels:N0} | {r.Clients} | {r.Note} | {r.PerSecond:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.Errors} |"));
    }
    Console.WriteLine();
    foreach (var clients in clientCounts)
    {
        var oneCh = cells.First(c => c.Channels == 1 && c.Clients == clients);
        var many = cells.First(c => c.Channels == ManyChannels && c.Clients == clients);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{clients} clients: 1,000 channels / 1 channel = {many.PerSecond / oneCh.PerSecond:F2}x throughput"));
    }
    foreach (var channels in new[] { 1, ManyChannels })
    {
        var few = cells.First(c => c.Channels == channels && c.Clients == clientCounts[0]);
        var more = cells.First(c => c.Channels == channels && c.Clients == clientCounts[^1]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{channels:N0} channel(s): {more.Clients} clients / {few.Clients} clients = {more.PerSecond / few.PerSecond:F2}x throughput, p50 {more.P50Ms / few.P50Ms:F2}x"));
    }
    Console.WriteLine();
    Console.WriteLine($"Cost of one post vs channel history: {flat.Samples} sequential posts into each channel, alternating, one client");
    Console.WriteLine();
    Console.WriteLine("| history (messages) | p50 ms | p90 ms |");
    Console.WriteLine("|---:|---:|---:|");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {flat.SmallHistory:N0} | {flat.SmallP50Ms:F3} | {flat.SmallP90Ms:F3} |"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {flat.BigHistory:N0} | {flat.BigP50Ms:F3} | {flat.BigP90Ms:F3} |"));
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"ratio p50 big/small = {flat.Ratio:F3} (target <= {FlatnessTarget}): {(flat.Ratio <= FlatnessTarget ? "PASS" : "MISS")}"));
}

double Option(string name, double fallback)
{
    var text = OptionText(name);
    return text is null ? fallback : double.Parse(text, CultureInfo.InvariantCulture);
}

string? OptionText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
