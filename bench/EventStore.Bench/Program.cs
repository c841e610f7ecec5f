using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EventSourcedChat.Bench;

// Event store benchmark: append throughput against plain INSERTs, and catch-up read throughput against a plain
// keyset read, on the real PostgreSQL, in the bench's own database. See docs/benchmarks.md.
//   dotnet run -c Release --project bench/EventStore.Bench -- [--quick]

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var settings = BenchSettings.Parse(args);
var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is { Length: > 0 } configured
    ? configured
    : BenchSettings.DefaultConnectionString;
var total = Stopwatch.StartNew();

await using var db = await BenchDatabase.CreateAsync(connectionString, settings.NoResetOnClose, settings.Experiments);
var server = await db.ServerSettingsAsync();

Console.WriteLine("# EventStore.Bench");
Console.WriteLine();
Console.WriteLine($"- run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, args: `{(args.Length == 0 ? "(none)" : string.Join(' ', args))}`");
Console.WriteLine($"- client: {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
Console.WriteLine($"- server: {string.Join(", ", server.Select(s => $"{s.Name}={s.Value}"))}");
Console.WriteLine($"- database: {BenchSettings.DatabaseName} (dropped and recreated), pool max {BenchSettings.PoolSize}" +
    (settings.NoResetOnClose ? ", No Reset On Close=true (experiment: no DISCARD ALL on reuse)" : ", Npgsql defaults otherwise (DISCARD ALL on reuse, as the application)"));
if (settings.Experiments.Count > 0)
{
    Console.WriteLine($"- EXPERIMENT, not the migrated es_append: {string.Join(", ", settings.Experiments)} (see Experiments.cs)");
}
Console.WriteLine($"- event: {Encoding.UTF8.GetByteCount(Payload.Data)} B data, {Encoding.UTF8.GetByteCount(Payload.StoredMetadata)} B metadata (jsonb)");
Console.WriteLine($"- each cell: {settings.Warmup.TotalSeconds:0.##} s warm-up + {settings.Duration.TotalSeconds:0.##} s measured, " +
    $"{settings.Repeats} run(s), median reported; tables truncated before each run, CHECKPOINT before each phase");
Console.WriteLine($"- host load average at start: {LoadAverage()}");
Console.WriteLine();

if (settings.RunAppend)
{
    await RunAppendMatrixAsync();
}
if (settings.RunCatchUp)
{
    await RunCatchUpAsync();
}

Console.WriteLine($"Total time: {total.Elapsed.TotalSeconds:0} s; host load average at end: {LoadAverage()}");
return 0;

// Other work on the host (builds, tests, other benchmarks on the same PostgreSQL) shows here.
static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1/5/15 min)" : "n/a";

async Task RunAppendMatrixAsync()
{
    using var failedCommands = new FailedCommands();
    var bench = new AppendBench(db.DataSource, failedCommands);
    var rows = new List<string>();
    foreach (var batch in settings.BatchSizes)
    {
        foreach (var streams in settings.StreamCounts)
        {
            foreach (var writers in settings.WriterCounts)
            {
                var cell = new AppendCell(batch, streams, writers);
                var appends = new List<Run>();
                var raws = new List<Run>();
                for (var r = 0; r < settings.Repeats; r++)
                {
                    await db.ResetAsync();
                    // Alternate which side goes first, so drift over a cell does not favour one side.
                    if (r % 2 == 0)
                    {
                        appends.Add(await PhaseAsync(() => bench.AppendAsync(cell, settings.Warmup), () => bench.AppendAsync(cell, settings.Duration)));
                        raws.Add(await PhaseAsync(() => bench.RawInsertAsync(cell, settings.Warmup), () => bench.RawInsertAsync(cell, settings.Duration)));
                    }
                    else
                    {
                        raws.Add(await PhaseAsync(() => bench.RawInsertAsync(cell, settings.Warmup), () => bench.RawInsertAsync(cell, settings.Duration)));
                        appends.Add(await PhaseAsync(() => bench.AppendAsync(cell, settings.Warmup), () => bench.AppendAsync(cell, settings.Duration)));
                    }
                }
                var append = Median(appends);
                var raw = Median(raws);
                var ratio = append.EventsPerSecond / raw.EventsPerSecond;
                var target = streams == 1_000 && writers >= 8 ? (ratio >= 0.7 ? "PASS (>= 0.7x)" : "MISS (>= 0.7x)") : "";
                var aborts = (double)appends.Sum(a => a.FailedCommands) / appends.Sum(a => a.Calls);
                var gaveUp = appends.Sum(a => a.Failures);
                var row = $"| {batch,5} | {streams,7} | {writers,7} | {append.EventsPerSecond,10:N0} | {raw.EventsPerSecond,10:N0} | {ratio,5:0.00}x " +
                    $"| {append.MillisecondsPerCall,8:0.00} | {raw.MillisecondsPerCall,8:0.00} | {Spread(appends),4}/{Spread(raws),-4} | {aborts,7:0.00} | {gaveUp,7:N0} | {target,-14} |";
                rows.Add(row);
                Console.Error.WriteLine($"[{total.Elapsed.TotalSeconds,4:0}s] {row}");
            }
        }
    }

    Console.WriteLine("## Append throughput (events/s) vs plain multi-row INSERT into bench_raw");
    Console.WriteLine();
    Console.WriteLine("| batch | streams | writers |   append/s |      raw/s | ratio  | append ms | raw ms   | spread a/r | ES40R/call | gave up | target         |");
    Console.WriteLine("|------:|--------:|--------:|-----------:|-----------:|-------:|----------:|---------:|-----------:|--------:|--------:|----------------|");
    foreach (var row in rows)
    {
        Console.WriteLine(row);
    }
    Console.WriteLine();
    Console.WriteLine("- append ms / raw ms: mean latency of one AppendAsync call / one INSERT statement, as seen by a writer.");
    Console.WriteLine("- spread: (max - min) / median of the runs' rates, append/raw.");
    Console.WriteLine("- ES40R/call: transactions es_append aborted with ES40R (stream last written by a younger transaction) per");
    Console.WriteLine("  AppendAsync call, all runs; AppendAsync retries them. gave up: calls that still failed after its 10 attempts");
    Console.WriteLine("  (their events are not counted).");
    Console.WriteLine();
}

async Task RunCatchUpAsync()
{
    var bench = new CatchUpBench(db.DataSource);
    await db.ResetAsync();
    var load = await bench.LoadAsync(settings.CatchUpEvents);
    var count = await db.CountAsync("es_events");
    // Set hint bits and the visibility map once, so the first reader does not pay for it alone.
    await db.ExecuteAsync("vacuum (analyze) es_events");
    await db.CheckpointAsync();
    Console.Error.WriteLine($"[{total.Elapsed.TotalSeconds,4:0}s] loaded {count:N0} events at {load.EventsPerSecond:N0} events/s");

    var subscription = new List<Run>();
    var batches = new List<Run>();
    var baseline = new List<Run>();
    var readers = new (List<Run> Runs, Func<long, Task<Run>> Read)[]
    {
        (baseline, bench.KeysetBaselineAsync),
        (subscription, bench.SubscriptionAsync),
        (batches, bench.SubscriptionBatchesAsync),
    };
    for (var r = 0; r < settings.Repeats; r++)
    {
        // Rotate the order, so that no reader always goes first (or always follows the same one).
        for (var i = 0; i < readers.Length; i++)
        {
            var (runs, read) = readers[(i + r) % readers.Length];
            runs.Add(await read(count));
        }
        Console.Error.WriteLine($"[{total.Elapsed.TotalSeconds,4:0}s] catch-up run {r + 1}: subscription {subscription[^1].EventsPerSecond:N0}, " +
            $"batches {batches[^1].EventsPerSecond:N0}, keyset {baseline[^1].EventsPerSecond:N0} events/s");
    }

    var b = Median(baseline);
    Console.WriteLine($"## Catch-up read of {count:N0} events from the start of the log, batches of {BenchSettings.ReadBatchSize:N0}");
    Console.WriteLine();
    Console.WriteLine($"Log loaded with AppendAsync (batch 100, 1,000 streams, 8 writers) at {load.EventsPerSecond:N0} events/s, then VACUUM ANALYZE.");
    Console.WriteLine();
    Console.WriteLine("| reader                                               |   events/s | vs keyset | ms/batch | spread | target              |");
    Console.WriteLine("|------------------------------------------------------|-----------:|----------:|---------:|-------:|---------------------|");
    CatchUpRow("CatchUpSubscription (checkpoint after each batch)", subscription, b, true);
    CatchUpRow("ReadSubscriptionBatchAsync loop (no checkpoint)", batches, b, true);
    CatchUpRow("baseline: keyset `position > $1 order by position`", baseline, b, false);
    Console.WriteLine();
}

void CatchUpRow(string name, List<Run> runs, Run baseline, bool targeted)
{
    var run = Median(runs);
    var target = targeted ? (run.EventsPerSecond >= 100_000 ? "PASS (>= 100,000/s)" : "MISS (>= 100,000/s)") : "";
    Console.WriteLine($"| {name,-52} | {run.EventsPerSecond,10:N0} | {run.EventsPerSecond / baseline.EventsPerSecond,8:0.00}x " +
        $"| {run.MillisecondsPerCall,8:0.00} | {Spread(runs),6} | {target,-19} |");
}

async Task<Run> PhaseAsync(Func<Task<Run>> warmup, Func<Task<Run>> measure)
{
    await db.CheckpointAsync();
    await warmup();
    return await measure();
}

static Run Median(List<Run> runs) => runs.OrderBy(r => r.EventsPerSecond).ElementAt(runs.Count / 2);

static string Spread(List<Run> runs)
{
    if (runs.Count < 2)
    {
        return "-";
    }
    var rates = runs.Select(r => r.EventsPerSecond).ToList();
    return $"{(rates.Max() - rates.Min()) / Median(runs).EventsPerSecond:0%}";
}
