using System.Diagnostics;
using System.Globalization;
using EventSourcedChat.ReadModels.Search;
using Npgsql;

// Search A/B on the data of bench/ReadSide.Bench (database esc_readbench, kept after its run): the search as built
// against the same search with the previous substring bound (2,000 candidates), the two alternated query by query
// in this one process, so both see the same machine at the same moments.
//   dotnet bench/Search.Bench/bin/Release/net10.0/EventSourcedChat.Search.Bench.dll [--rounds N] [--baseline-candidates N]
// Needs ConnectionStrings__Postgres (any database on the server; the bench reads esc_readbench).

var rounds = (int)Option("--rounds", 30);
var baselineCandidates = (int)Option("--baseline-candidates", PostgresMessageSearch.CandidateLimit);
var inv = CultureInfo.InvariantCulture;
var admin = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("Set ConnectionStrings__Postgres (the bench reads esc_readbench on that server).");
var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = "esc_readbench" }.ConnectionString;
await using var db = NpgsqlDataSource.Create(connectionString);

// The reader of ReadSide.Bench: the user in the most channels of the workspace.
string reader, workspace;
await using (var cmd = db.CreateCommand("""
    select m.user_id, c.workspace_id from rm_directory.channel_members m join rm_directory.channels c using (channel_id)
     group by 1, 2 order by count(*) desc limit 1
    """))
await using (var r = await cmd.ExecuteReaderAsync())
{
    if (!await r.ReadAsync())
    {
        throw new InvalidOperationException("esc_readbench has no directory: run bench/ReadSide.Bench first (a full run keeps its data).");
    }
    (reader, workspace) = (r.GetString(0), r.GetString(1));
}
var messages = await ScalarAsync("select count(*) from rm_search.messages");
var mine = await ScalarAsync($"select count(*) from rm_directory.channel_members where user_id = '{reader}'");
Console.WriteLine($"Search.Bench: {Environment.ProcessorCount} cores, {messages:N0} searchable messages, reader in {mine} channels, {rounds} rounds");
Console.WriteLine($"baseline: substring bound {baselineCandidates:N0}; as built: {PostgresMessageSearch.SubstringCandidateLimit:N0}");

var built = new PostgresMessageSearch(db);
var baseline = new PostgresMessageSearch(db, baselineCandidates);
string[] words = ["deploy", "database migration", "kubernetes", "postmortem", "capybara", "zanzibar"];
string[] fragments = ["ploy", "atab", "ostmor", "ybar"];
var times = new Dictionary<(string Query, bool Built), List<double>>();
var overlap = new Dictionary<string, int>();
foreach (var q in words.Concat(fragments))
{
    var query = new SearchQuery(workspace, q, null, null, null, null, 20);
    foreach (var search in new[] { baseline, built, baseline, built })
    {
        await search.SearchAsync(query, reader, CancellationToken.None); // warm-up
    }
    times[(q, false)] = [];
    times[(q, true)] = [];
    SearchResults? a = null, b = null;
    for (var i = 0; i < rounds; i++)
    {
        // Alternate which goes first, so neither always finds the other's pages in the cache.
        foreach (var useBuilt in i % 2 == 0 ? new[] { false, true } : [true, false])
        {
            var watch = Stopwatch.StartNew();
            var found = await (useBuilt ? built : baseline).SearchAsync(query, reader, CancellationToken.None);
            times[(q, useBuilt)].Add(watch.Elapsed.TotalMilliseconds);
            if (useBuilt) { b = found; } else { a = found; }
        }
    }
    overlap[q] = a!.Results.Select(h => (h.ChannelId, h.Seq)).Intersect(b!.Results.Select(h => (h.ChannelId, h.Seq))).Count();
    Console.WriteLine($"  {q}: {b!.Results.Count} hits");
}

Console.WriteLine();
Console.WriteLine("| query | kind | baseline p50 / p99 ms | as built p50 / p99 ms | median ratio (baseline / built) | same hits in top 20 |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var q in words.Concat(fragments))
{
    var (a, b) = (times[(q, false)], times[(q, true)]);
    Console.WriteLine(string.Create(inv,
        $"| {q} | {(words.Contains(q) ? "word" : "substring")} | {Pct(a, 50):F1} / {Pct(a, 99):F1} | {Pct(b, 50):F1} / {Pct(b, 99):F1} | {Pct(a, 50) / Pct(b, 50):F2}x | {overlap[q]} |"));
}
foreach (var (kind, set) in new[] { ("word", words), ("substring", fragments) })
{
    var a = set.SelectMany(q => times[(q, false)]).ToList();
    var b = set.SelectMany(q => times[(q, true)]).ToList();
    Console.WriteLine(string.Create(inv,
        $"| all {kind} queries | {kind} | {Pct(a, 50):F1} / {Pct(a, 99):F1} | {Pct(b, 50):F1} / {Pct(b, 99):F1} | {Pct(a, 50) / Pct(b, 50):F2}x (p99 {Pct(a, 99) / Pct(b, 99):F2}x) | |"));
}
var substringP99 = Pct(fragments.SelectMany(q => times[(q, true)]).ToList(), 99);
Console.WriteLine(string.Create(inv, $"substring p99 as built: {substringP99:F1} ms, target < 100 ms: {(substringP99 < 100 ? "PASS" : "MISS")}"));
return substringP99 < 100 ? 0 : 2;

static double Pct(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

double Option(string name, double fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

async Task<long> ScalarAsync(string sql)
{
    await using var cmd = db.CreateCommand(sql);
    return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
}
