using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.AuditBench;
using Npgsql;
using NpgsqlTypes;

// Audit export benchmark: one channel of N events (default 1,000,000), exported as NDJSON through the real host
// (GET /v1/audit/channels/{ch}/events), against raw COPY and a plain Npgsql SELECT of the same rows in the same run.
//   dotnet bench/Audit.Bench/bin/Release/net10.0/EventSourcedChat.Audit.Bench.dll [--events N] [--rounds N] [--reuse] [--gateway-dll PATH] [--as-of]
// --as-of: instead, read the channel's whole as-of view (GET /v1/audit/channels/{ch}/as-of?at=) each round, with the
// host's peak RSS against a 10,000-message page (?limit=10000).
// Needs ConnectionStrings__Postgres (any database of the server; the bench uses its own database esc_auditbench).

var inv = CultureInfo.InvariantCulture;
var events = (int)Option("--events", 1_000_000);
var rounds = (int)Option("--rounds", 3);
var reuse = args.Contains("--reuse");
var asOf = args.Contains("--as-of");
const int Batch = 1_000;
const int SmallExport = 10_000;
const string Email = "auditor@auditbench.test";
const string Password = "correct horse battery staple";

var server = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("Set ConnectionStrings__Postgres.");
var dll = OptionText("--gateway-dll") ?? Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../Gateway/bin/Release/net10.0/EventSourcedChat.Gateway.dll"));
if (!File.Exists(dll))
{
    throw new FileNotFoundException($"{dll} not found; build it first: dotnet build Gateway/Gateway.csproj -c Release");
}
var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = "esc_auditbench" }.ConnectionString;
await PrepareDatabaseAsync(server, "esc_auditbench", reuse);
await using var db = NpgsqlDataSource.Create(connectionString);
Console.WriteLine($"Audit.Bench: {Environment.ProcessorCount} cores, {events:N0} events, {rounds} rounds");

using var host = HostProcess.Start(dll, connectionString);
using var http = new HttpClient { BaseAddress = host.Address, Timeout = Timeout.InfiniteTimeSpan };
await host.WaitLiveAsync(http);

// The auditor: a workspace admin, with a channel.
var auth = await http.PostAsJsonAsync("/v1/auth/login", new { email = Email, password = Password });
if (!auth.IsSuccessStatusCode)
{
    auth = await http.PostAsJsonAsync("/v1/auth/register", new { email = Email, password = Password, displayName = "auditor" });
}
var account = await auth.Content.ReadFromJsonAsync<JsonElement>();
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.GetProperty("token").GetString());
var userId = account.GetProperty("userId").GetString()!;
var channel = await ExistingChannelAsync();
if (channel is null)
{
    var ws = (await (await http.PostAsJsonAsync("/v1/workspaces", new { name = "AuditBench" })).Content.ReadFromJsonAsync<JsonElement>())
        .GetProperty("workspaceId").GetString()!;
    channel = (await (await http.PostAsJsonAsync($"/v1/workspaces/{ws}/channels", new { name = "big" })).Content.ReadFromJsonAsync<JsonElement>())
        .GetProperty("channelId").GetString()!;
    await SeedAsync(channel);
}
var stream = $"channel-{channel}";
var total = await ScalarAsync<long>("select version from es_streams where stream_id = $1", stream);
var tableMiB = await ScalarAsync<long>("select pg_total_relation_size('es_events')") / 1048576.0;
Console.WriteLine($"channel {channel}: {total:N0} events; es_events with indexes {tableMiB:N0} MiB");

if (asOf)
{
    // Warm-up, then the rounds; the host is idle between them.
    var asOfPath = $"/v1/audit/channels/{channel}/as-of?at={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddYears(1).ToString("O", inv))}";
    await AsOfRead.ReadAsync(http, host, asOfPath + "&limit=1000");
    var idle = host.RssMiB();
    var page = new List<double>();
    var whole = new List<(long Messages, long Bytes, double Seconds, double PeakRss)>();
    for (var round = 1; round <= rounds; round++)
    {
        var first = await AsOfRead.ReadAsync(http, host, asOfPath + $"&limit={SmallExport}");
        page.Add(first.PeakRss);
        var full = await AsOfRead.ReadAsync(http, host, asOfPath);
        if (full.Messages != total - 2)
        {
            throw new InvalidOperationException($"the as-of view held {full.Messages} messages, not {total - 2}");
        }
        whole.Add(full);
        Console.WriteLine(string.Create(inv, $"round {round}: as-of of {full.Messages:N0} messages ({full.Bytes / 1048576.0:N0} MiB) in {full.Seconds:F1} s "
            + $"({full.Messages / full.Seconds:N0} messages/s); host peak RSS {first.PeakRss:N0} MiB ({SmallExport:N0}-message page) vs {full.PeakRss:N0} MiB (whole view)"));
    }
    static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
    Console.WriteLine();
    Console.WriteLine(string.Create(inv, $"medians over {rounds} rounds, {total:N0} events: as-of view {MedianOf(whole.Select(w => w.Messages / w.Seconds)):N0} messages/s, "
        + $"{MedianOf(whole.Select(w => w.Seconds)):F1} s; host RSS idle {idle:N0} MiB, peak {MedianOf(page):N0} MiB for a {SmallExport:N0}-message page, "
        + $"peak {MedianOf(whole.Select(w => w.PeakRss)):N0} MiB for the whole view"));
    return 0;
}

// Warm-up (plans, connections, JIT), then the rounds.
await ExportAsync($"?limit={SmallExport}");
var idleRss = host.RssMiB();
var results = new Dictionary<string, List<double>>();
void Add(string name, double value) => (results.TryGetValue(name, out var l) ? l : results[name] = []).Add(value);
for (var round = 1; round <= rounds; round++)
{
    var small = await ExportAsync($"?limit={SmallExport}");
    Add("small peak RSS MiB", small.PeakRss);
    var full = await ExportAsync("");
    if (full.Lines != total)
    {
        throw new InvalidOperationException($"the export gave {full.Lines} lines, not {total}");
    }
    Add("http events/s", full.Lines / full.Seconds);
    Add("http MiB/s", full.Bytes / 1048576.0 / full.Seconds);
    Add("full peak RSS MiB", full.PeakRss);
    var copy = await CopyAsync();
    Add("copy events/s", copy.Lines / copy.Seconds);
    var select = await SelectAsync();
    Add("select events/s", select.Lines / select.Seconds);
    var verify = Stopwatch.StartNew();
    var verified = await http.GetFromJsonAsync<JsonElement>($"/v1/audit/channels/{channel}/verify");
    Add("verify events/s", verified.GetProperty("events").GetInt64() / verify.Elapsed.TotalSeconds);
    Console.WriteLine(string.Create(inv, $"round {round}: http {full.Lines / full.Seconds:N0} ev/s ({full.Bytes / 1048576.0:N0} MiB in {full.Seconds:F1} s), "
        + $"COPY {copy.Lines / copy.Seconds:N0} ev/s, SELECT {select.Lines / select.Seconds:N0} ev/s, verify {verify.Elapsed.TotalSeconds:F1} s; "
        + $"host peak RSS {small.PeakRss:N0} MiB ({SmallExport:N0}-event export) vs {full.PeakRss:N0} MiB (full)"));
}

double Median(string name)
{
    var sorted = results[name].Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
Console.WriteLine();
Console.WriteLine($"medians over {rounds} rounds, {total:N0} events:");
Console.WriteLine(string.Create(inv, $"  NDJSON export over HTTP   {Median("http events/s"),12:N0} events/s  ({Median("http MiB/s"):N1} MiB/s)"));
Console.WriteLine(string.Create(inv, $"  COPY ... TO STDOUT        {Median("copy events/s"),12:N0} events/s  -> export/COPY   = {Median("http events/s") / Median("copy events/s"):F2}"));
Console.WriteLine(string.Create(inv, $"  Npgsql SELECT, one query  {Median("select events/s"),12:N0} events/s  -> export/SELECT = {Median("http events/s") / Median("select events/s"):F2}"));
Console.WriteLine(string.Create(inv, $"  verify (server)           {Median("verify events/s"),12:N0} events/s"));
Console.WriteLine(string.Create(inv, $"  host RSS: idle {idleRss:N0} MiB, peak {Median("small peak RSS MiB"):N0} MiB exporting {SmallExport:N0} events, peak {Median("full peak RSS MiB"):N0} MiB exporting {total:N0}"));
return 0;

async Task<(long Lines, long Bytes, double Seconds, double PeakRss)> ExportAsync(string query)
{
    var peak = host.RssMiB();
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            peak = Math.Max(peak, host.RssMiB());
            await Task.Delay(20);
        }
    });
    var clock = Stopwatch.StartNew();
    using var response = await http.GetAsync($"/v1/audit/channels/{channel}/events{query}", HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    await using var body = await response.Content.ReadAsStreamAsync();
    var buffer = new byte[1 << 16];
    long lines = 0, bytes = 0;
    int read;
    while ((read = await body.ReadAsync(buffer)) > 0)
    {
        bytes += read;
        lines += buffer.AsSpan(0, read).Count((byte)'\n');
    }
    var seconds = clock.Elapsed.TotalSeconds;
    await sampling.CancelAsync();
    await sampler;
    return (lines, bytes, seconds, Math.Max(peak, host.RssMiB()));
}

// The same rows and columns as the export, as PostgreSQL's own text COPY: the floor for getting them out of the server.
async Task<(long Lines, double Seconds)> CopyAsync()
{
    var clock = Stopwatch.StartNew();
    await using var conn = await db.OpenConnectionAsync();
    using var reader = await conn.BeginTextExportAsync($"""
        copy (select version, position, event_id, type, data::text, metadata::text, encode(hash, 'hex'), encode(prev_hash, 'hex'), created_at
                from es_events where stream_id = '{stream}' order by version) to stdout
        """);
    var buffer = new char[1 << 16];
    long lines = 0;
    int read;
    while ((read = await reader.ReadAsync(buffer)) > 0)
    {
        lines += buffer.AsSpan(0, read).Count('\n');
    }
    return (lines, clock.Elapsed.TotalSeconds);
}

// One SELECT of the same rows read with Npgsql's data reader (every field materialized), no JSON, no HTTP.
async Task<(long Lines, double Seconds)> SelectAsync()
{
    var clock = Stopwatch.StartNew();
    await using var cmd = db.CreateCommand("""
        select version, position, event_id, type, data::text, metadata::text, hash, prev_hash, created_at
          from es_events where stream_id = $1 order by version
        """);
    cmd.Parameters.AddWithValue(stream);
    await using var r = await cmd.ExecuteReaderAsync();
    long lines = 0;
    while (await r.ReadAsync())
    {
        _ = (r.GetInt64(0), r.GetInt64(1), r.GetGuid(2), r.GetString(3), r.GetString(4), r.GetString(5),
            r.GetFieldValue<byte[]>(6), r.GetFieldValue<byte[]>(7), r.GetFieldValue<DateTimeOffset>(8));
        lines++;
    }
    return (lines, clock.Elapsed.TotalSeconds);
}

// N message.posted events appended with es_append in batches of 1,000 (the store's limit), hash chain and all; the
// write side's channel version follows, so commands on the channel keep working.
async Task SeedAsync(string ch)
{
    var clock = Stopwatch.StartNew();
    await using var conn = await db.OpenConnectionAsync();
    var version = await ScalarAsync<long>("select version from ws_channels where channel_id = $1", ch);
    var metadata = JsonSerializer.Serialize(new { actor = userId, correlationId = "auditbench", causationId = (string?)null, at = DateTime.UtcNow });
    var rng = new Random(7);
    for (var done = 0; done < events; done += Batch)
    {
        var n = Math.Min(Batch, events - done);
        var ids = new Guid[n];
        var data = new string[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = Guid.CreateVersion7();
            var words = string.Join(' ', Enumerable.Range(0, 8 + rng.Next(20)).Select(_ => Words[rng.Next(Words.Length)]));
            data[i] = JsonSerializer.Serialize(new
            {
                channelId = ch, messageId = ids[i].ToString("N"), userId, text = $"{words} #{done + i}", threadRootSeq = (long?)null,
                mentions = new { userIds = Array.Empty<string>(), channel = false, here = false },
            });
        }
        await using var cmd = new NpgsqlCommand("select out_version from es_append($1, $2, $3, $4, $5, $6, now())", conn);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"channel-{ch}" });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version });
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = Enumerable.Repeat("message.posted.v1", n).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = Enumerable.Repeat(metadata, n).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        version = (long)(await cmd.ExecuteScalarAsync())!;
        if ((done / Batch) % 100 == 99)
        {
            Console.WriteLine(string.Create(inv, $"  seeded {done + n:N0} events ({(done + n) / clock.Elapsed.TotalSeconds:N0}/s)"));
        }
    }
    await using (var cmd = db.CreateCommand("update ws_channels set version = $2 where channel_id = $1"))
    {
        cmd.Parameters.AddWithValue(ch);
        cmd.Parameters.AddWithValue(version);
        await cmd.ExecuteNonQueryAsync();
    }
    await using (var analyze = db.CreateCommand("analyze es_events"))
    {
        await analyze.ExecuteNonQueryAsync();
    }
    Console.WriteLine(string.Create(inv, $"seeded {events:N0} events in {clock.Elapsed.TotalSeconds:F0} s ({events / clock.Elapsed.TotalSeconds:N0}/s)"));
}

async Task<string?> ExistingChannelAsync()
{
    await using var cmd = db.CreateCommand("select channel_id from ws_channels where name = 'big' and version >= $1");
    cmd.Parameters.AddWithValue((long)events);
    return await cmd.ExecuteScalarAsync() as string;
}

async Task<T> ScalarAsync<T>(string sql, params object[] values)
{
    await using var cmd = db.CreateCommand(sql);
    foreach (var v in values)
    {
        cmd.Parameters.AddWithValue(v);
    }
    return (T)(await cmd.ExecuteScalarAsync())!;
}

static async Task PrepareDatabaseAsync(string server, string name, bool reuse)
{
    await using var admin = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server) { Database = "postgres" }.ConnectionString);
    await using var exists = admin.CreateCommand("select 1 from pg_database where datname = $1");
    exists.Parameters.AddWithValue(name);
    if (reuse && await exists.ExecuteScalarAsync() is not null)
    {
        return;
    }
    await using (var drop = admin.CreateCommand($"drop database if exists \"{name}\" with (force)"))
    {
        await drop.ExecuteNonQueryAsync();
    }
    await using var create = admin.CreateCommand($"create database \"{name}\" template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C.UTF-8'");
    await create.ExecuteNonQueryAsync();
}

long Option(string name, long fallback) =>
    OptionText(name) is { } text ? long.Parse(text, inv) : fallback;

string? OptionText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal static partial class Program
{
    private static readonly string[] Words =
        ["deploy", "review", "the", "build", "is", "green", "again", "lunch", "meeting", "moved", "to", "three", "ship", "it",
         "logs", "show", "a", "timeout", "on", "node", "two", "please", "check", "incident", "resolved", "thanks", "everyone"];
}
