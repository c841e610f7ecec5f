using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using EventSourcedChat.ReadSideBench;
using Npgsql;

// Read-side benchmark through the real host (started as a separate process) on its own database esc_readbench.
//   dotnet bench/ReadSide.Bench/bin/Release/net10.0/EventSourcedChat.ReadSide.Bench.dll [--quick]
//        [--channels N] [--big N] [--small N] [--users N] [--wide N] [--gateway-dll PATH] [--port N] [--database NAME]
// Needs ConnectionStrings__Postgres (any database on the server; the bench drops and creates esc_readbench).

var quick = args.Contains("--quick");
var channelCount = (int)Option("--channels", 1_000);
var bigEvents = (int)Option("--big", quick ? 25_000 : 225_000);      // message events (posts, edits, reactions) of the big channel
var smallEvents = (int)Option("--small", quick ? 90 : 890);           // of each other channel
var userCount = (int)Option("--users", 10_000);
var wideMembers = (int)Option("--wide", 10_000);
var port = (int)Option("--port", 0);
const int MemberChannels = 200;
const int ChunkEvents = 5_000;
const int Rounds = 5;
const double CatchUpTarget = 50_000;
const double HistoryTargetMs = 5;
const double SearchTargetMs = 100;
const double FlatTarget = 1.2;
var rng = new Random(42);
var inv = CultureInfo.InvariantCulture;

var adminConnection = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("Set ConnectionStrings__Postgres (the bench uses its own database esc_readbench on that server).");
var dll = OptionText("--gateway-dll") ?? GatewayProcess.DefaultDll();
if (!File.Exists(dll))
{
    throw new FileNotFoundException($"{dll} not found; build it first: dotnet build Gateway/Gateway.csproj -c Release", dll);
}
var total = Stopwatch.StartNew();
Console.WriteLine($"ReadSide.Bench: {Environment.ProcessorCount} cores, {(quick ? "quick" : "full")} run");
var connectionString = await BenchDatabases.ResetAsync(adminConnection, OptionText("--database") ?? "esc_readbench");
await using var db = NpgsqlDataSource.Create(connectionString);
var meta = LogGenerator.Metadata("readbench-fill");

// 1. Setup host: migrations, and the real users (who have passwords and tokens) through the API.
BenchUser reader, poster;
string workspace;
using (var setupHost = GatewayProcess.Start(dll, connectionString, port))
{
    using var http = ChatApi.CreateClient(setupHost.BaseAddress);
    await setupHost.WaitLiveAsync(http, TimeSpan.FromSeconds(90));
    var api = new ChatApi(http);
    reader = await api.RegisterAsync("reader");
    poster = await api.RegisterAsync("poster");
    workspace = await api.CreateWorkspaceAsync(reader, "ReadBench");
    await api.AddMemberAsync(reader, workspace, poster);
    Console.WriteLine($"setup host pid {setupHost.Pid}: reader {reader.UserId}, poster {poster.UserId}, workspace {workspace}; stopping it");
}

// 2. The log, generated in SQL with es_append (write side consistent), host down.
var gen = Stopwatch.StartNew();
await LogGenerator.InstallAsync(db);
var users = await LogGenerator.RegisterUsersAsync(db, userCount, meta);
await LogGenerator.AddToWorkspaceAsync(db, workspace, reader.UserId, meta);
Console.WriteLine($"  {users.Length:N0} users registered and in the workspace ({gen.Elapsed.TotalSeconds:F0} s)");
var channels = new List<GeneratedChannel>();
for (var i = 0; i < channelCount; i++)
{
    var creator = users[(i * 7) % users.Length];
    var members = new HashSet<string> { creator };
    while (members.Count < 9)
    {
        members.Add(users[rng.Next(users.Length)]);
    }
    var watched = i < MemberChannels;
    if (watched)
    {
        members.Add(reader.UserId);
    }
    channels.Add(new GeneratedChannel(Guid.NewGuid().ToString("N"), $"c{i:D4}", creator, [.. members]) { Watch = watched ? reader.UserId : null });
}
var wide = new GeneratedChannel(Guid.NewGuid().ToString("N"), "wide", poster.UserId, [poster.UserId, .. users.Take(wideMembers - 1)]);
var tiny = new GeneratedChannel(Guid.NewGuid().ToString("N"), "tiny", poster.UserId, [poster.UserId, reader.UserId]);
foreach (var channel in channels.Append(wide).Append(tiny))
{
    await LogGenerator.CreateChannelAsync(db, channel, workspace, meta);
}
Console.WriteLine($"  {channels.Count + 2:N0} channels created ({gen.Elapsed.TotalSeconds:F0} s)");
var big = channels[0];
for (var round = 0; round < Rounds; round++)
{
    // Interleaved: every round gives every channel a fifth of its messages, in a random order of channels.
    var work = new List<(GeneratedChannel Channel, int Count)>();
    foreach (var channel in channels)
    {
        var events = channel == big ? bigEvents : smallEvents;
        var share = (events / Rounds) + (round < events % Rounds ? 1 : 0);
        for (var left = share; left > 0; left -= ChunkEvents)
        {
            work.Add((channel, Math.Min(left, ChunkEvents)));
        }
    }
    var order = work.OrderBy(_ => rng.Next()).ToList();
    // Two connections; one channel's chunks stay on one connection, in order.
    await Task.WhenAll(Enumerable.Range(0, 2).Select(async worker =>
    {
        await using var conn = await db.OpenConnectionAsync();
        foreach (var (channel, count) in order.Where(w => (channels.IndexOf(w.Channel) % 2) == worker))
        {
            await LogGenerator.FillAsync(conn, channel, count, meta);
        }
    }));
    Console.WriteLine($"  round {round + 1}/{Rounds} filled ({gen.Elapsed.TotalSeconds:F0} s)");
}
var markers = await LogGenerator.MoveReadMarkersAsync(db, reader.UserId, channels.Take(MemberChannels).Where((_, i) => i % 2 == 0), 60, meta);
var generateSeconds = gen.Elapsed.TotalSeconds;
var sizes = await LogSizesAsync();
Console.WriteLine($"log generated in {generateSeconds:F0} s; {markers} read markers; write side checked: {await CheckWriteSideAsync()}");
await ExecAsync("vacuum analyze es_events, es_streams, ws_messages, ws_channels, ws_channel_members, ws_reactions, ws_users, ws_workspace_members", 900);
// The setup host projected its few events; start every projection from position 0 again.
await ExecAsync("drop schema if exists rm_directory, rm_unread, rm_history, rm_search cascade; delete from es_checkpoints where name like 'projection:%'; delete from projection_status", 600);
Console.WriteLine($"vacuum analyze and projection reset done ({total.Elapsed.TotalSeconds:F0} s since start)");

// 3. The measured host: all roles, the reader is an instance admin.
var results = new List<Row>();
var extraEnv = new Dictionary<string, string> { ["Admins"] = reader.UserId };
var catchUpStart = Stopwatch.StartNew();
using var host = GatewayProcess.Start(dll, connectionString, port, extraEnv);
try
{
    Console.WriteLine($"host pid {host.Pid} at {host.BaseAddress}");
    using var http = ChatApi.CreateClient(host.BaseAddress);
    await host.WaitLiveAsync(http, TimeSpan.FromSeconds(90));
    var liveAt = catchUpStart.Elapsed.TotalSeconds;
    var api = new ChatApi(http);

    // 3.1 Catch-up from position 0.
    // The admin list names every runner, the push worker too (checkpoint "push", Projections/Push/PushOptions.cs); the
    // catch-up measured here is the projections' (checkpoints "projection:{name}").
    var names = (await api.GetJsonAsync(reader, "v1/admin/projections")).EnumerateArray().Select(p => p.GetProperty("name").GetString()!)
        .Where(name => name != "push").ToList();
    var head = await ScalarAsync<long>("select max(position) from es_events");
    var reached = new Dictionary<string, double>();
    while (reached.Count < names.Count)
    {
        foreach (var (name, position) in await CheckpointsAsync())
        {
            if (position >= head && names.Contains(name) && !reached.ContainsKey(name))
            {
                reached[name] = catchUpStart.Elapsed.TotalSeconds;
                Console.WriteLine($"  {name} reached the head after {reached[name]:F1} s");
            }
        }
        if (catchUpStart.Elapsed > TimeSpan.FromMinutes(20))
        {
            throw new TimeoutException("projections did not catch up within 20 minutes");
        }
        await Task.Delay(200);
    }
    var events = sizes.Events;
    var slowest = reached.Values.Max();
    results.Add(new Row("1", $"catch-up of all {names.Count} projections from 0 (running together; from host start, incl. {liveAt:F1} s boot)",
        $"{events / slowest:N0} events/s ({events:N0} in {slowest:F1} s)", $">= {CatchUpTarget:N0}", events / slowest >= CatchUpTarget));
    foreach (var (name, at) in reached.OrderBy(r => r.Value))
    {
        results.Add(new Row("1", $"  {name}", $"{events / at:N0} events/s ({at:F1} s)", "", null));
    }

    // 3.2 Rebuild of history while the live one serves.
    var rebuild = Stopwatch.StartNew();
    await api.PostJsonAsync(reader, "v1/admin/projections/history/rebuild", new { }, HttpStatusCode.Accepted);
    long applied;
    while (true)
    {
        var status = (await api.GetJsonAsync(reader, "v1/admin/projections")).EnumerateArray().First(p => p.GetProperty("name").GetString() == "history");
        if (status.TryGetProperty("rebuild", out var r) && r.ValueKind == JsonValueKind.Object)
        {
            var state = r.GetProperty("state").GetString();
            if (state == "switched")
            {
                applied = r.GetProperty("eventsApplied").GetInt64();
                break;
            }
            if (state == "failed")
            {
                throw new InvalidOperationException($"rebuild failed: {r}");
            }
        }
        await Task.Delay(250);
    }
    var rebuildSeconds = rebuild.Elapsed.TotalSeconds;
    results.Add(new Row("1", "rebuild of history (POST .../history/rebuild until \"switched\")",
        $"{applied / rebuildSeconds:N0} events/s ({applied:N0} in {rebuildSeconds:F1} s)", $">= {CatchUpTarget:N0}", applied / rebuildSeconds >= CatchUpTarget));
    Console.WriteLine($"  rebuild switched after {rebuildSeconds:F1} s");
    await ExecAsync("vacuum analyze rm_history.messages, rm_history.reactions, rm_unread.channel_messages, rm_unread.mentions, rm_search.messages, rm_directory.channel_members, rm_directory.channels", 900);

    // 3.3 History pages.
    var smalls = channels.Skip(1).Take(MemberChannels - 1).ToList();
    string HistoryPath(GeneratedChannel c, Random random) =>
        $"v1/channels/{c.Id}/messages?before={random.NextInt64(2, c.Version + 2)}&limit=50";
    await TimeAsync(api, reader, 1, 100, r => HistoryPath(big, r));
    foreach (var (label, pick) in new (string, Func<Random, GeneratedChannel>)[]
             { ($"big channel ({big.Version:N0} seq)", _ => big), ($"small channels (~{smallEvents + 10} seq, 199 of them)", r => smalls[r.Next(smalls.Count)]) })
    {
        foreach (var clients in new[] { 1, 8 })
        {
            var t = await TimeAsync(api, reader, clients, clients == 1 ? 1_000 : 250, r => HistoryPath(pick(r), r));
            results.Add(new Row("2", $"history page, {label}, {clients} client(s), {t.Count:N0} reqs", Fmt(t), $"p99 < {HistoryTargetMs} ms",
                Stats.PercentileMs(t, 0.99) < HistoryTargetMs));
        }
    }

    // 3.4 Channel list with counts.
    var list = await api.GetJsonAsync(reader, $"v1/workspaces/{workspace}/channels?limit=1000");
    var withUnread = list.EnumerateArray().Count(c => c.GetProperty("unreadCount").GetInt64() > 0);
    var withMentions = list.EnumerateArray().Count(c => c.GetProperty("mentionCount").GetInt64() > 0);
    await TimeAsync(api, reader, 1, 10, _ => $"v1/workspaces/{workspace}/channels?limit=1000");
    var lt = await TimeAsync(api, reader, 1, 200, _ => $"v1/workspaces/{workspace}/channels?limit=1000");
    results.Add(new Row("3", $"channel list: {list.GetArrayLength():N0} channels, member of {MemberChannels + 1}, {withUnread} with unread, {withMentions} with mentions; 200 reqs",
        Fmt(lt), "(none)", null));

    // 3.5 Search.
    string[] wordQueries = ["deploy", "database migration", "kubernetes", "postmortem", "capybara", "zanzibar"];
    string[] substringQueries = ["ploy", "atab", "ostmor", "ybar"];
    foreach (var (kind, queries) in new[] { ("word", wordQueries), ("substring", substringQueries) })
    {
        var all = new List<long>();
        foreach (var q in queries)
        {
            var path = $"v1/search?workspaceId={workspace}&q={Uri.EscapeDataString(q)}&limit=20";
            await TimeAsync(api, reader, 1, 2, _ => path);
            var t = await TimeAsync(api, reader, 1, 20, _ => path);
            all.AddRange(t);
            results.Add(new Row("4", $"  search \"{q}\" ({kind}), 20 reqs", Fmt(t), "", null));
        }
        results.Add(new Row("4", $"search, {kind} queries ({queries.Length} x 20 reqs), member of {MemberChannels + 1} channels", Fmt(all),
            $"p99 < {SearchTargetMs} ms", Stats.PercentileMs(all, 0.99) < SearchTargetMs));
    }

    // 3.6 Write cost beside member count.
    var wideTicks = new List<long>();
    var tinyTicks = new List<long>();
    for (var i = 0; i < 250; i++)
    {
        var pair = i % 2 == 0 ? new[] { wide, tiny } : [tiny, wide];
        foreach (var c in pair)
        {
            var start = Stopwatch.GetTimestamp();
            var code = await api.PostMessageAsync(poster, c.Id, ChatApi.PostBody($"flat post {i}"));
            var elapsed = Stopwatch.GetTimestamp() - start;
            if (code != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"post answered {(int)code}");
            }
            if (i >= 50)
            {
                (c == wide ? wideTicks : tinyTicks).Add(elapsed);
            }
        }
    }
    var ratio = Stats.PercentileMs(wideTicks, 0.5) / Stats.PercentileMs(tinyTicks, 0.5);
    results.Add(new Row("5", $"POST into {wideMembers:N0}-member channel, 200 alternating", Fmt(wideTicks), "", null));
    results.Add(new Row("5", "POST into 2-member channel, 200 alternating", Fmt(tinyTicks), "", null));
    results.Add(new Row("5", "median POST 10,000 members / 2 members", $"{ratio:F3}", $"<= {FlatTarget}", ratio <= FlatTarget));
    const int RowPosts = 100;
    var rowsPerPost = new Dictionary<string, double>();
    // The whole database's commits and written rows per post, less what the idle host commits meanwhile (status polls,
    // lag samples, this bench's own polling), measured over an idle window first.
    var idleStart = await UnreadRowsAfterCatchUpAsync();
    var idleClock = Stopwatch.StartNew();
    var idleEnd = await UnreadRowsAfterCatchUpAsync();
    var idlePerSecond = (Xacts: (idleEnd.Xacts - idleStart.Xacts) / idleClock.Elapsed.TotalSeconds, Rows: (idleEnd.AllRows - idleStart.AllRows) / idleClock.Elapsed.TotalSeconds);
    foreach (var c in new[] { wide, tiny })
    {
        var before = await UnreadRowsAfterCatchUpAsync();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < RowPosts; i++)
        {
            await api.PostMessageAsync(poster, c.Id, ChatApi.PostBody($"row count post {i}"));
        }
        var after = await UnreadRowsAfterCatchUpAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        rowsPerPost[c.Name] = (after.Unread - before.Unread) / (double)RowPosts;
        results.Add(new Row("5", $"whole database per post into '{c.Name}' ({RowPosts} posts one at a time, less idle {idlePerSecond.Xacts:F1} commits/s and {idlePerSecond.Rows:F1} rows/s): commits, rows written",
            string.Create(inv, $"{(after.Xacts - before.Xacts - idlePerSecond.Xacts * seconds) / RowPosts:F2} commits, {(after.AllRows - before.AllRows - idlePerSecond.Rows * seconds) / RowPosts:F2} rows"), "", null));
    }
    results.Add(new Row("5", $"rm_unread rows written per post (n_tup_ins+n_tup_upd, {RowPosts} posts each): {wideMembers:N0} members vs 2",
        // At most 3 per post (channel counter, author counter, message row) whatever the member count; fewer when posts
        // are applied in runs, which move each counter once per run.
        $"{rowsPerPost["wide"]:F2} vs {rowsPerPost["tiny"]:F2}", "<= 3 both", rowsPerPost["wide"] <= 3 && rowsPerPost["tiny"] <= 3));
}
catch
{
    Console.Error.WriteLine($"host output (last lines):\n{host.Output}");
    throw;
}
finally
{
    host.Dispose();
    Console.WriteLine($"host pid {host.Pid} stopped");
}

Console.WriteLine();
Console.WriteLine($"Data: {sizes.Describe()}; {channelCount:N0} channels + 'wide' ({wideMembers:N0} members) + 'tiny' (2); big channel {bigEvents:N0} message events; others {smallEvents:N0} each");
Console.WriteLine($"Log generation {generateSeconds:F0} s; total {total.Elapsed.TotalSeconds:F0} s");
Console.WriteLine();
Console.WriteLine("| # | measure | figure | target | verdict |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var r in results)
{
    Console.WriteLine($"| {r.Item} | {r.Measure} | {r.Figure} | {r.Target} | {(r.Pass is null ? "" : r.Pass.Value ? "PASS" : "MISS")} |");
}
return results.Any(r => r.Pass == false) ? 2 : 0;

string Fmt(IReadOnlyCollection<long> t) =>
    string.Create(inv, $"p50 {Stats.PercentileMs(t, 0.5):F2} ms, p99 {Stats.PercentileMs(t, 0.99):F2} ms");

async Task<List<long>> TimeAsync(ChatApi api, BenchUser user, int clients, int perClient, Func<Random, string> path)
{
    var bag = new List<long>[clients];
    await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
    {
        var random = new Random(1000 + c);
        var mine = bag[c] = new List<long>(perClient);
        for (var i = 0; i < perClient; i++)
        {
            mine.Add(await api.TimedGetAsync(user, path(random)));
        }
    })));
    return bag.SelectMany(b => b).ToList();
}

async Task<(long Unread, long Xacts, long AllRows)> UnreadRowsAfterCatchUpAsync()
{
    var target = await ScalarAsync<long>("select max(position) from es_events");
    while (await ScalarAsync<long>("select coalesce(max(position), 0) from es_checkpoints where name = 'projection:unread'") < target)
    {
        await Task.Delay(100);
    }
    // Backends flush table statistics at most once a second, and an idle one within 10 s.
    await Task.Delay(TimeSpan.FromSeconds(11));
    return (await ScalarAsync<long>("select coalesce(sum(n_tup_ins + n_tup_upd), 0)::bigint from pg_stat_user_tables where schemaname = 'rm_unread'"),
        await ScalarAsync<long>("select xact_commit from pg_stat_database where datname = current_database()"),
        await ScalarAsync<long>("select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint from pg_stat_user_tables"));
}

async Task<List<(string Name, long Position)>> CheckpointsAsync()
{
    await using var cmd = db.CreateCommand("select substr(name, 12), position from es_checkpoints where name like 'projection:%' and name not like '%:rebuild'");
    await using var r = await cmd.ExecuteReaderAsync();
    var list = new List<(string, long)>();
    while (await r.ReadAsync())
    {
        list.Add((r.GetString(0), r.GetInt64(1)));
    }
    return list;
}

async Task<LogSizes> LogSizesAsync()
{
    await using var cmd = db.CreateCommand("""
        select count(*),
               count(*) filter (where type = 'message.posted.v1'),
               count(*) filter (where type = 'message.posted.v1' and data ->> 'threadRootSeq' is not null),
               count(*) filter (where type = 'message.edited.v1'),
               count(*) filter (where type = 'reaction.added.v1'),
               count(*) filter (where type = 'message.posted.v1' and jsonb_array_length(data -> 'mentions' -> 'userIds') > 0),
               count(*) filter (where type = 'message.posted.v1' and (data -> 'mentions' ->> 'channel')::boolean),
               count(*) filter (where type = 'member.joined.v1'),
               count(*) filter (where type = 'user.registered.v1')
          from es_events
        """);
    cmd.CommandTimeout = 600;
    await using var r = await cmd.ExecuteReaderAsync();
    await r.ReadAsync();
    return new LogSizes(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.GetInt64(8));
}

async Task<string> CheckWriteSideAsync()
{
    var bad = await ScalarAsync<long>("""
        select (select count(*) from ws_channels c join es_streams s on s.stream_id = 'channel-' || c.channel_id where s.version <> c.version)
             + abs((select count(*) from ws_messages) - (select count(*) from es_events where type = 'message.posted.v1'))
             + abs((select count(*) from ws_channel_members) - (select count(*) from es_events where type = 'member.joined.v1'))
             + abs((select count(*) from ws_reactions) - (select count(*) from es_events where type = 'reaction.added.v1'))
             + abs((select count(*) from ws_users) - (select count(*) from es_events where type = 'user.registered.v1'))
             + abs((select count(*) from ws_workspace_members) - (select count(*) from es_events where type = 'workspace.member_added.v1'))
             + abs((select count(*) from ws_read_markers) - (select count(*) from es_events where type = 'read.marker.v1'))
        """);
    if (bad != 0)
    {
        throw new InvalidOperationException($"write side disagrees with the log ({bad} differences)");
    }
    var chain = await ScalarAsync<long>($"""
        select count(*) from (
            select hash = es_event_hash(prev_hash, stream_id, version, event_id, type, data, metadata, created_at) as ok,
                   prev_hash = coalesce(lag(hash) over (order by version), decode(repeat('00', 32), 'hex')) as link
              from es_events where stream_id = 'channel-{big.Id}') e where not ok or not link
        """);
    if (chain != 0)
    {
        throw new InvalidOperationException($"{chain} bad hashes in the big channel");
    }
    return "ws_channels.version = stream version for every channel; ws_messages, ws_channel_members, ws_reactions, ws_users, ws_workspace_members, ws_read_markers counts = their events; big channel hash chain intact";
}

async Task<T> ScalarAsync<T>(string sql)
{
    await using var cmd = db.CreateCommand(sql);
    cmd.CommandTimeout = 600;
    return (T)(await cmd.ExecuteScalarAsync())!;
}

async Task ExecAsync(string sql, int timeout)
{
    await using var cmd = db.CreateCommand(sql);
    cmd.CommandTimeout = timeout;
    await cmd.ExecuteNonQueryAsync();
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

internal sealed record Row(string Item, string Measure, string Figure, string Target, bool? Pass);

internal sealed record LogSizes(long Events, long Posts, long Replies, long Edits, long Reactions, long UserMentions, long ChannelMentions, long Joins, long Users)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Events:N0} events: {Posts:N0} posts ({Replies:N0} thread replies, {UserMentions:N0} with a <@user> mention, {ChannelMentions:N0} with @channel), {Edits:N0} edits, {Reactions:N0} reactions, {Joins:N0} channel joins, {Users:N0} users");
}
