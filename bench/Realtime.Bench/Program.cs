using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourcedChat.Commands;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.ReadSideBench;
using EventSourcedChat.RealtimeBench;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

// Realtime benchmark: the real host (all roles, Release build) as a child process on its own database esc_rtbench
// and its own RabbitMQ exchange, many WebSocket clients and HTTP senders in this process.
//   dotnet bench/Realtime.Bench/bin/Release/net10.0/EventSourcedChat.Realtime.Bench.dll [--quick]
//        [--users N] [--channels N] [--channels-per-user N] [--clients 1000,10000] [--rates 500,1000,2000]
//        [--ladder 200,100,50,20] [--in-flight N] [--warmup S] [--duration S] [--fanout N] [--burst N] [--idle N] [--gateway-dll PATH] [--port N]
//        [--database NAME] (default esc_rtbench)
//   ... EventSourcedChat.Realtime.Bench.dll --telemetry-cost [--rounds N] [--window N] [--users N] [--warmup S] [--duration S]
//        [--on-env KEY=VALUE,...] [--database NAME] (default esc_rtcost): fan-out with OpenTelemetry export off and on, see TelemetryCostBench.
//   ... EventSourcedChat.Realtime.Bench.dll --scenarios all|"20x10;100;1000;hot" [--quick] [--stages] [--host-env K=V,...] [--warmup S] [--duration S] [--in-flight N]
//        [--gateway-dll PATH] [--database NAME] (default esc_rtscen): issue 16's four shapes, each a rate sweep, see ScenarioBench.
// Needs ConnectionStrings__Postgres (any database on the server) and the shared RabbitMQ and Redis
// (ConnectionStrings__RabbitMq, ConnectionStrings__Redis, as scripts/services.sh env prints them).

var quick = args.Contains("--quick");
var telemetryCost = args.Contains("--telemetry-cost");
var scenarios = OptionText("--scenarios");
// The scenarios' seed: 1,000 users, user u in channel u mod 100 (channels of 10), and 'wide' with all of them.
var userCount = scenarios is not null ? 1_000 : (int)Option("--users", telemetryCost ? 1_000 : quick ? 2_000 : 10_000);
var channelCount = scenarios is not null ? 100 : (int)Option("--channels", telemetryCost ? 10 : quick ? 200 : 1_000);
var channelsPerUser = scenarios is not null ? 1 : (int)Option("--channels-per-user", 2);
var clientSteps = (OptionText("--clients") ?? (quick ? "500,2000" : "1000,10000")).Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var rates = (OptionText("--rates") ?? (quick ? "100,200" : "500,1000,2000")).Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var ladder = (OptionText("--ladder") ?? (quick ? "50,20" : "200,100,50,20")).Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var warmup = TimeSpan.FromSeconds(Option("--warmup", quick ? 1 : 2));
var duration = TimeSpan.FromSeconds(Option("--duration", quick ? 3 : 5));
var fanoutMessages = (int)Option("--fanout", quick ? 5 : 20);
var burstMessages = (int)Option("--burst", quick ? 10 : 30);
var idleTarget = (int)Option("--idle", quick ? 2_000 : 50_000);
var maxInFlight = (int)Option("--in-flight", 32); // below the host's Npgsql pool (100): more starves the push worker of connections
var port = (int)Option("--port", 0);
const double LatencyTargetMs = 50;
const double FanOutTargetMs = 250;
const double DeliveriesTarget = 100_000;
const double IdleTarget = 50_000;
const double PerConnectionTargetKb = 20;
var inv = CultureInfo.InvariantCulture;
clientSteps = [.. clientSteps.Select(c => Math.Min(c, userCount))];

var adminConnection = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("Set ConnectionStrings__Postgres (the bench uses its own database esc_rtbench on that server).");
var dll = OptionText("--gateway-dll") ?? GatewayProcess.DefaultDll();
if (!File.Exists(dll))
{
    throw new FileNotFoundException($"{dll} not found; build it first: dotnet build Gateway/Gateway.csproj -c Release", dll);
}
var total = Stopwatch.StartNew();
var fdLimit = OpenFilesLimit();
Console.WriteLine($"Realtime.Bench: {Environment.ProcessorCount} cores, {(quick ? "quick" : "full")} run, open-files limit {fdLimit}, {Load()}");
var benchDatabase = OptionText("--database") ?? (telemetryCost ? "esc_rtcost" : scenarios is not null ? "esc_rtscen" : "esc_rtbench");
var connectionString = await BenchDatabases.ResetAsync(adminConnection, benchDatabase);
await using var db = NpgsqlDataSource.Create(connectionString);
var meta = LogGenerator.Metadata("rtbench-seed");
var hostEnv = new Dictionary<string, string> { ["Realtime__Exchange"] = $"chat.events.{benchDatabase}" };

// 1. Setup host: migrations, the workspace's admin through the API (this also creates the token key ring).
string workspace;
using (var setupHost = GatewayProcess.Start(dll, connectionString, port, hostEnv))
{
    using var http = ChatApi.CreateClient(setupHost.BaseAddress);
    await setupHost.WaitLiveAsync(http, TimeSpan.FromSeconds(90));
    var api = new ChatApi(http);
    var admin = await api.RegisterAsync("rtadmin");
    workspace = await api.CreateWorkspaceAsync(admin, "RealtimeBench");
    Console.WriteLine($"setup host pid {setupHost.Pid}: workspace {workspace}; stopping it");
}

// 2. Users, workspace membership and channels straight into the store with es_append (host down).
var seed = Stopwatch.StartNew();
await LogGenerator.InstallAsync(db);
var users = await LogGenerator.RegisterUsersAsync(db, userCount, meta);
await LogGenerator.AddToWorkspaceAsync(db, workspace, users[0], meta);
var members = new List<int>[channelCount + 1]; // the last one is "wide": every user
for (var c = 0; c <= channelCount; c++)
{
    members[c] = [];
}
for (var u = 0; u < userCount; u++)
{
    foreach (var c in ChannelsOf(u))
    {
        members[c].Add(u);
    }
    members[channelCount].Add(u);
}
var channelIds = new string[channelCount + 1];
for (var c = 0; c <= channelCount; c++)
{
    channelIds[c] = Guid.NewGuid().ToString("N");
    var ids = members[c].Select(u => users[u]).ToArray();
    await LogGenerator.CreateChannelAsync(db, new GeneratedChannel(channelIds[c], c == channelCount ? "wide" : $"rt{c:D4}", ids[0], ids), workspace, meta);
}
var wide = channelCount;
var channelIndex = channelIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
Console.WriteLine($"seeded {userCount:N0} users, {channelCount:N0} channels of {members[0].Count} members ({channelsPerUser} per user) and 'wide' of {members[wide].Count:N0} in {seed.Elapsed.TotalSeconds:F0} s");

// Bearer tokens for the seeded users, issued with the key ring the host keeps in PostgreSQL (as the host would).
var tokens = new string[userCount];
{
    var services = new ServiceCollection();
    services.AddLogging();
    services.AddSingleton(TimeProvider.System);
    services.AddSingleton(db);
    services.AddCommands(new ConfigurationBuilder().Build()); // no key protection, like the host it starts
    await using var provider = services.BuildServiceProvider();
    var issuer = provider.GetRequiredService<Tokens>();
    for (var u = 0; u < userCount; u++)
    {
        tokens[u] = issuer.Issue(users[u]);
    }
}
var authorizations = tokens.Select(t => new AuthenticationHeaderValue("Bearer", t)).ToArray();

if (telemetryCost)
{
    // Every user connected, user 0 posting into 'wide', telemetry off and on, a fresh host per side and round.
    var target = new FanOutTarget(dll, connectionString, hostEnv, channelIds[wide], wide, tokens, authorizations, new Deliveries(channelIndex, userCount));
    var onEnvironment = (OptionText("--on-env") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Select(pair => pair.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
    return await TelemetryCostBench.RunAsync(target, (int)Option("--rounds", 4), warmup, duration, (int)Option("--window", 4), onEnvironment);
}

if (scenarios is not null)
{
    var scenarioSeed = new ScenarioSeed(dll, connectionString, hostEnv, db, workspace, meta, users, tokens, authorizations, channelIds, members);
        var scenarioHostEnvironment = (OptionText("--host-env") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Select(pair => pair.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
    return await ScenarioBench.RunAsync(scenarioSeed, ScenarioBench.Resolve(scenarios), quick, warmup, duration, maxInFlight, args.Contains("--stages"),
        scenarioHostEnvironment);
}

// 3. The measured host: all roles in one process.
var results = new List<Row>();
var connected = new List<HubSocket>();
var deliveries = new Deliveries(channelIndex, userCount);
using var host = GatewayProcess.Start(dll, connectionString, port, hostEnv);
using var pinging = new CancellationTokenSource();
Task? pinger = null;
try
{
    Console.WriteLine($"host pid {host.Pid} at {host.BaseAddress}");
    using var http = ChatApi.CreateClient(host.BaseAddress);
    await host.WaitLiveAsync(http, TimeSpan.FromSeconds(90));
    await WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
    var gatewayUri = new Uri($"ws://{host.BaseAddress.Authority}/");
    pinger = Task.Run(async () =>
    {
        while (!pinging.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), pinging.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            HubSocket[] all;
            lock (connected)
            {
                all = [.. connected];
            }
            foreach (var socket in all)
            {
                await socket.PingAsync();
            }
        }
    });

    // 3.1 End-to-end latency at fixed send rates, with 1,000 then 10,000 connected clients.
    var run = 0;
    var latencyRuns = new List<(int Run, int Clients, double Rate, SendResult Send, long Dup, long Ooo, double PerChannel, string Cpu)>();
    foreach (var clients in clientSteps)
    {
        var connectTime = await ConnectClientsAsync(gatewayUri, clients);
        Console.WriteLine($"{clients:N0} clients connected ({connectTime:F1} s), {Load()}");
        await Task.Delay(TimeSpan.FromSeconds(2)); // the 1 s resume grace of the newest connections
        if (run == 0)
        {
            // Warm the host (JIT, pools) at the lowest rate; not reported.
            run++;
            await SendAtRateAsync(http, run, rates.Min(), TimeSpan.Zero, warmup + warmup, clients);
            await DrainAsync(run, deliveries.Expected(run, c => Online(c, clients)), TimeSpan.FromSeconds(30));
            Console.WriteLine($"  warm-up: lost so far {deliveries.Lost(run, c => Online(c, clients))}");
        }
        foreach (var rate in rates)
        {
            await RunCellAsync(++run, clients, rate, duration, "");
        }
        // Below the asked rates: the highest rate of the ladder at which the push worker keeps up (less than a
        // second of events behind when posting stops) is the rate the whole path sustains here.
        foreach (var rate in ladder.Where(r => r < rates.Min()))
        {
            var (_, behind) = await RunCellAsync(++run, clients, rate, duration + duration, " (ladder)");
            if (behind < rate)
            {
                break;
            }
        }
    }

    async Task<(double PushRate, long Behind)> RunCellAsync(int cellRun, int clients, double rate, TimeSpan measured, string note)
    {
        var (dup0, ooo0) = (deliveries.Duplicates, deliveries.OutOfOrder);
        var cpu = CpuMeter.Start(host.Pid);
        var push0 = await PushCheckpointAsync();
        var sendStart = Stopwatch.GetTimestamp();
        var send = await SendAtRateAsync(http, cellRun, rate, warmup, measured, clients);
        var cpuText = cpu.Stop();
        var push1 = await PushCheckpointAsync();
        var pushed = await EventsBetweenAsync(push0.Checkpoint, push1.Checkpoint);
        var behind = await EventsBetweenAsync(push1.Checkpoint, push1.Head);
        var pushRate = pushed / Stopwatch.GetElapsedTime(sendStart).TotalSeconds;
        cpuText += string.Create(inv, $"; push checkpoint moved {pushRate:N0} events/s while posting, {behind:N0} events behind it at the end");
        var expected = deliveries.Expected(cellRun, c => Online(c, clients));
        var drained = await DrainAsync(cellRun, expected, TimeSpan.FromSeconds(quick ? 30 : 90));
        var lost = deliveries.Lost(cellRun, c => Online(c, clients));
        var samples = LatencyTicks(cellRun, send.MeasureFrom);
        var perChannel = (double)Enumerable.Range(0, channelCount).Sum(c => Online(c, clients).Count) / channelCount;
        var (dup, ooo) = (deliveries.Duplicates - dup0, deliveries.OutOfOrder - ooo0);
        Console.WriteLine($"  {clients:N0} clients, {rate:N0} msg/s asked{note}: sent {send.Achieved:N0} msg/s ({send.Errors} errors {send.ErrorKinds}, POST p50 {send.PostP50:F1} ms), " +
                          $"{samples.Count:N0} deliveries measured, p50 {Stats.PercentileMs(samples, 0.5):F1} p95 {Stats.PercentileMs(samples, 0.95):F1} p99 {Stats.PercentileMs(samples, 0.99):F1} ms; " +
                          $"lost {lost} dup {dup} out-of-order {ooo} (drain {drained:F1} s); {cpuText}; {Load()}");
        latencyRuns.Add((cellRun, clients, rate, send, dup, ooo, perChannel, cpuText));
        return (pushRate, behind);
    }

    // 3.2 Fan-out: one sender into the channel every connected user is in.
    var online = connected.Count;
    var sender = 0;
    var fanoutRun = ++run;
    var lastTimes = new List<double>();
    var spreadRates = new List<double>();
    for (var i = 0; i < fanoutMessages; i++)
    {
        var (status, seq, sent) = await PostAsync(http, fanoutRun, wide, sender);
        if (status != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"fan-out post answered {(int)status}");
        }
        deliveries.Posted(fanoutRun, wide, seq);
        await DrainAsync(fanoutRun, (long)(i + 1) * online, TimeSpan.FromSeconds(30));
        var times = deliveries.Samples(fanoutRun).Where(s => s.Seq == seq).Select(s => s.Received).DefaultIfEmpty(sent).ToList();
        var (firstDelivery, last) = (times.Min(), times.Max());
        lastTimes.Add((last - sent) * 1000.0 / Stopwatch.Frequency);
        // The node's fan-out rate for one message: its deliveries over the spread between first and last member.
        spreadRates.Add(last > firstDelivery ? times.Count * (double)Stopwatch.Frequency / (last - firstDelivery) : double.NaN);
        await Task.Delay(300);
    }
    var fanoutLost = deliveries.Lost(fanoutRun, c => Online(c, online));
    var perDelivery = LatencyTicks(fanoutRun, 0);
    lastTimes.Sort();
    var lastP50 = lastTimes[(lastTimes.Count - 1) / 2];
    var lastMax = lastTimes[^1];
    var lastP99 = lastTimes[Math.Clamp((int)Math.Ceiling(0.99 * lastTimes.Count) - 1, 0, lastTimes.Count - 1)];
    spreadRates.Sort();
    var spreadMedian = spreadRates[(spreadRates.Count - 1) / 2];
    Console.WriteLine($"fan-out to {online:N0}: last member after p50 {lastP50:F1} / p99 {lastP99:F1} / max {lastMax:F1} ms; per delivery p50 {Stats.PercentileMs(perDelivery, 0.5):F1} p99 {Stats.PercentileMs(perDelivery, 0.99):F1} ms; " +
                      $"first->last member of one message: median {spreadMedian:N0} deliveries/s; lost {fanoutLost}, {Load()}");

    // Throughput: a burst of the sender's posts lands in the log at once (appended with es_append in one transaction,
    // as the API writes a post, so the HTTP write path does not pace it); the push worker sends them in one batch
    // and the node fans out burst x members deliveries.
    var burstRun = ++run;
    var (burstDup0, burstOoo0) = (deliveries.Duplicates, deliveries.OutOfOrder);
    var burstCpu = CpuMeter.Start(host.Pid);
    var first = Stopwatch.GetTimestamp();
    foreach (var seq in await AppendPostsAsync(wide, sender, burstMessages, Deliveries.Text(burstRun, first)))
    {
        deliveries.Posted(burstRun, wide, seq);
    }
    var postedIn = (Stopwatch.GetTimestamp() - first) * 1.0 / Stopwatch.Frequency;
    await DrainAsync(burstRun, deliveries.Expected(burstRun, c => Online(c, online)), TimeSpan.FromSeconds(90));
    var burstCpuText = burstCpu.Stop();
    var burstSamples = deliveries.Samples(burstRun);
    var firstAt = burstSamples.Count == 0 ? first : burstSamples.Min(s => s.Received);
    var lastAt = burstSamples.Count == 0 ? first : burstSamples.Max(s => s.Received);
    var fromPost = (lastAt - first) * 1.0 / Stopwatch.Frequency;
    var fromFirst = (lastAt - firstAt) * 1.0 / Stopwatch.Frequency;
    var burstLost = deliveries.Lost(burstRun, c => Online(c, online));
    Console.WriteLine($"burst: {burstMessages} posts appended in {postedIn:F2} s, {burstSamples.Count:N0} deliveries, " +
                      $"{burstSamples.Count / fromFirst:N0}/s first->last delivery ({fromFirst:F2} s), {burstSamples.Count / fromPost:N0}/s append->last delivery ({fromPost:F2} s); lost {burstLost}; {burstCpuText}; {Load()}");

    // Everything posted is now owed: what is missing at this point is lost (a late delivery of an earlier run counted).
    await Task.Delay(TimeSpan.FromSeconds(2));
    foreach (var r in latencyRuns)
    {
        var lost = deliveries.Lost(r.Run, c => Online(c, r.Clients));
        var samples = LatencyTicks(r.Run, r.Send.MeasureFrom);
        var p99 = Stats.PercentileMs(samples, 0.99);
        var clean = lost + r.Dup + r.Ooo == 0;
        var atTarget = r.Rate >= 2_000 && r.Clients >= 10_000;
        results.Add(new Row("1", string.Create(inv, $"{r.Clients:N0} clients ({r.PerChannel:F0} online per channel), {r.Rate:N0} msg/s asked -> {r.Send.Achieved:N0} msg/s sent ({r.Send.Errors} errors, POST p50 {r.Send.PostP50:F1} ms; {r.Cpu})"),
            string.Create(inv, $"p50 {Stats.PercentileMs(samples, 0.5):F1} / p95 {Stats.PercentileMs(samples, 0.95):F1} / p99 {p99:F1} ms ({samples.Count:N0} deliveries); lost {lost}, dup {r.Dup}, out-of-order {r.Ooo}"),
            atTarget ? $"p99 < {LatencyTargetMs} ms at 2,000 msg/s" : "0 lost/dup/out-of-order",
            atTarget ? p99 < LatencyTargetMs && r.Send.Achieved >= r.Rate * 0.95 && clean : clean));
    }
    var fanoutClean = deliveries.Lost(fanoutRun, c => Online(c, online)) + deliveries.Lost(burstRun, c => Online(c, online)) == 0;
    results.Add(new Row("2", string.Create(inv, $"fan-out: {fanoutMessages} posts one at a time into a {online:N0}-member channel, all online: POST sent -> last member has it"),
        string.Create(inv, $"p50 {lastP50:F1} / p99 {lastP99:F1} ms (max {lastMax:F1}); per delivery p50 {Stats.PercentileMs(perDelivery, 0.5):F1} / p99 {Stats.PercentileMs(perDelivery, 0.99):F1} ms; lost {deliveries.Lost(fanoutRun, c => Online(c, online))}"),
        $"p99 < {FanOutTargetMs} ms", lastP99 < FanOutTargetMs && fanoutClean));
    results.Add(new Row("2", string.Create(inv, $"fan-out throughput: {burstMessages} posts of one sender appended to the log at once (es_append, {postedIn:F2} s) for the {online:N0}-member channel; {burstCpuText}"),
        string.Create(inv, $"{burstSamples.Count / fromFirst:N0} deliveries/s first->last delivery ({burstSamples.Count:N0} in {fromFirst:F2} s; {burstSamples.Count / fromPost:N0}/s from the append); lost {deliveries.Lost(burstRun, c => Online(c, online))}, dup {deliveries.Duplicates - burstDup0}, out-of-order {deliveries.OutOfOrder - burstOoo0}"),
        $">= {DeliveriesTarget:N0}/s", burstSamples.Count / fromFirst >= DeliveriesTarget && fanoutClean));
    results.Add(new Row("2", string.Create(inv, $"fan-out rate within one message ({fanoutMessages} one-at-a-time posts above): members / (last - first member's delivery), median"),
        string.Create(inv, $"{spreadMedian:N0} deliveries/s (min {spreadRates[0]:N0}, max {spreadRates[^1]:N0})"), $">= {DeliveriesTarget:N0}/s", spreadMedian >= DeliveriesTarget));
    Console.WriteLine($"all runs: duplicates {deliveries.Duplicates}, out-of-order {deliveries.OutOfOrder}, unexpected records {connected.Sum(c => c.Unexpected)}");
    // 3.3 Idle connections on raw sockets, after the measuring clients left.
    await CloseClientsAsync();
    await Task.Delay(TimeSpan.FromSeconds(5));
    var idleCount = Math.Min(idleTarget, fdLimit - 1_000);
    var memBefore = await HostMemory.AfterGcAsync(host.Pid);
    using var idle = new IdleConnections();
    var opening = Stopwatch.StartNew();
    using (var keepAlive = new CancellationTokenSource())
    {
        var keeper = Task.Run(async () =>
        {
            while (!keepAlive.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), keepAlive.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                idle.PingAll();
            }
        });
        var server = new IPEndPoint(IPAddress.Loopback, host.BaseAddress.Port);
        // Two steps: the first half, then the rest; the slope between them is the marginal cost of a connection
        // (one-time growth such as thread-pool threads and pooled buffers falls in the first step).
        var half = idleCount / 2;
        await idle.OpenAsync(server, half, 10_000, i => tokens[i % userCount], 64, TimeSpan.FromMinutes(quick ? 2 : 4));
        await Task.Delay(TimeSpan.FromSeconds(10));
        var openHalf = idle.PingAll();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var memHalf = await HostMemory.AfterGcAsync(host.Pid);
        Console.WriteLine($"idle: {openHalf:N0} open, host RSS {memBefore.RssKb / 1024.0:F0} -> {memHalf.RssKb / 1024.0:F0} MB, GC heap {memBefore.GcHeapKb / 1024.0:F0} -> {memHalf.GcHeapKb / 1024.0:F0} MB, {Load()}");
        await idle.OpenAsync(server, idleCount, 10_000, i => tokens[i % userCount], 64, TimeSpan.FromMinutes(quick ? 2 : 4), startAt: half);
        var openSeconds = opening.Elapsed.TotalSeconds;
        Console.WriteLine($"idle: {idle.Count:N0} opened ({idle.Failed} failed{(idle.FirstError is null ? "" : ": " + idle.FirstError)}) in {openSeconds:F0} s, {Load()}");
        await Task.Delay(TimeSpan.FromSeconds(10));
        var stillOpen = idle.PingAll();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var memAfter = await HostMemory.AfterGcAsync(host.Pid);
        await keepAlive.CancelAsync();
        await keeper;
        double PerConnection(long before, long after, int from, int to) => to > from ? (after - before) / (double)(to - from) : double.NaN;
        var rssPer = PerConnection(memBefore.RssKb, memAfter.RssKb, 0, stillOpen);
        var rssSlope = PerConnection(memHalf.RssKb, memAfter.RssKb, openHalf, stillOpen);
        var heapPer = PerConnection(memBefore.GcHeapKb, memAfter.GcHeapKb, 0, stillOpen);
        var heapSlope = PerConnection(memHalf.GcHeapKb, memAfter.GcHeapKb, openHalf, stillOpen);
        var livePer = PerConnection(memBefore.LiveKb, memAfter.LiveKb, 0, stillOpen);
        var liveSlope = PerConnection(memHalf.LiveKb, memAfter.LiveKb, openHalf, stillOpen);
        Console.WriteLine($"idle: {stillOpen:N0} open after 15 s; host RSS {memBefore.RssKb / 1024.0:F0} -> {memAfter.RssKb / 1024.0:F0} MB = {rssPer:F1} KB per connection (slope {rssSlope:F1}); " +
                          $"GC heap {memBefore.GcHeapKb / 1024.0:F0} -> {memAfter.GcHeapKb / 1024.0:F0} MB = {heapPer:F1} KB per connection (slope {heapSlope:F1}); " +
                          $"live objects {memBefore.LiveKb / 1024.0:F0} -> {memHalf.LiveKb / 1024.0:F0} -> {memAfter.LiveKb / 1024.0:F0} MB = {livePer:F1} KB per connection (slope {liveSlope:F1})");
        results.Add(new Row("3", string.Create(inv, $"idle connections held by one gateway process (asked {idleTarget:N0}; open-files limit {fdLimit:N0}; {openSeconds:F0} s to open, 64 at a time, 10,000 per 127.0.0.x)"),
            string.Create(inv, $"{stillOpen:N0} open ({idle.Failed} failed)"), $">= {IdleTarget:N0}", stillOpen >= IdleTarget));
        results.Add(new Row("3", string.Create(inv, $"host memory per idle connection after a full GC induced in the host: 0 -> {stillOpen:N0} connections (slope {openHalf:N0} -> {stillOpen:N0})"),
            string.Create(inv, $"working set (VmRSS) {rssPer:F1} KB (slope {rssSlope:F1}; {memBefore.RssKb / 1024.0:F0} -> {memHalf.RssKb / 1024.0:F0} -> {memAfter.RssKb / 1024.0:F0} MB); GC heap {heapPer:F1} KB (slope {heapSlope:F1}; {memBefore.GcHeapKb / 1024.0:F0} -> {memHalf.GcHeapKb / 1024.0:F0} -> {memAfter.GcHeapKb / 1024.0:F0} MB); live objects after the GC {livePer:F1} KB (slope {liveSlope:F1}; {memBefore.LiveKb / 1024.0:F0} -> {memHalf.LiveKb / 1024.0:F0} -> {memAfter.LiveKb / 1024.0:F0} MB)"),
            $"<= {PerConnectionTargetKb} KB", heapPer <= PerConnectionTargetKb && rssSlope <= PerConnectionTargetKb));
    }
}
finally
{
    await pinging.CancelAsync();
    if (pinger is not null)
    {
        await pinger;
    }
    await CloseClientsAsync();
}

Console.WriteLine();
Console.WriteLine($"Results ({total.Elapsed.TotalSeconds:F0} s, {Load()})");
Console.WriteLine("| # | measure | figure | target | verdict |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var row in results)
{
    Console.WriteLine($"| {row.Item} | {row.Measure} | {row.Figure} | {row.Target} | {(row.Pass is null ? "" : row.Pass.Value ? "PASS" : "MISS")} |");
}
return results.Any(r => r.Pass == false) ? 2 : 0;

IEnumerable<int> ChannelsOf(int user) =>
    Enumerable.Range(0, channelsPerUser).Select(j => (user + (j * channelCount / channelsPerUser)) % channelCount);

// Online members of a channel when clients 0..n-1 are connected (members are in user order).
IReadOnlyList<int> Online(int channel, int n) => members[channel].TakeWhile(u => u < n).ToList();

async Task<double> ConnectClientsAsync(Uri gateway, int upTo)
{
    var watch = Stopwatch.StartNew();
    int next;
    lock (connected)
    {
        next = connected.Count - 1;
    }
    using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(quick ? 2 : 5));
    var failures = 0;
    await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < upTo)
        {
            try
            {
                var socket = await HubSocket.ConnectAsync(gateway, tokens[i], i, deliveries.OnReceived, budget.Token);
                lock (connected)
                {
                    connected.Add(socket);
                }
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or OperationCanceledException or InvalidOperationException)
            {
                if (Interlocked.Increment(ref failures) == 1)
                {
                    Console.WriteLine($"  connect {i} failed: {e.Message}");
                }
            }
        }
    }));
    connected.Sort((a, b) => a.Index.CompareTo(b.Index));
    if (connected.Count != upTo)
    {
        throw new InvalidOperationException($"only {connected.Count} of {upTo} clients connected ({failures} failed)");
    }
    return watch.Elapsed.TotalSeconds;
}

async Task CloseClientsAsync()
{
    HubSocket[] all;
    lock (connected)
    {
        all = [.. connected];
        connected.Clear();
    }
    foreach (var chunk in all.Chunk(500))
    {
        await Task.WhenAll(chunk.Select(s => s.DisposeAsync().AsTask()));
    }
}

async Task<(HttpStatusCode Status, long Seq, long Sent)> PostAsync(HttpClient http, int run, int channel, int user)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{channelIds[channel]}/messages");
    request.Headers.Authorization = authorizations[user];
    var sent = Stopwatch.GetTimestamp();
    var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { text = Deliveries.Text(run, sent), clientMsgId = Guid.NewGuid().ToString("N") }));
    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
    request.Content = content;
    using var response = await http.SendAsync(request);
    if (response.StatusCode != HttpStatusCode.Created)
    {
        return (response.StatusCode, -1, sent);
    }
    await using var body = await response.Content.ReadAsStreamAsync();
    using var doc = await JsonDocument.ParseAsync(body);
    return (response.StatusCode, doc.RootElement.GetProperty("seq").GetInt64(), sent);
}

// Open loop: post i is due at start + i / rate; at most maxInFlight posts wait for their answer (when the host is
// slower than the rate, the schedule slips and the achieved rate says so). Random channel, random online member.
async Task<SendResult> SendAtRateAsync(HttpClient http, int run, double rate, TimeSpan warm, TimeSpan measured, int clients)
{
    var rng = new Random(run);
    using var slots = new SemaphoreSlim(maxInFlight, maxInFlight);
    var pending = new List<Task>();
    var start = Stopwatch.GetTimestamp();
    var measureFrom = start + (long)(warm.TotalSeconds * Stopwatch.Frequency);
    var end = measureFrom + (long)(measured.TotalSeconds * Stopwatch.Frequency);
    long ok = 0, errors = 0;
    var statuses = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
    var postTimes = new List<long>();
    long issued = 0;
    while (Stopwatch.GetTimestamp() < end)
    {
        var due = (long)((Stopwatch.GetTimestamp() - start) * rate / Stopwatch.Frequency);
        while (issued < due && Stopwatch.GetTimestamp() < end)
        {
            await slots.WaitAsync();
            issued++;
            var channel = rng.Next(channelCount);
            var online = Online(channel, clients);
            var user = online.Count == 0 ? members[channel][0] : online[rng.Next(online.Count)];
            pending.Add(Task.Run(async () =>
            {
                try
                {
                    var (status, seq, sent) = await PostAsync(http, run, channel, user);
                    var took = Stopwatch.GetTimestamp() - sent;
                    if (status == HttpStatusCode.Created)
                    {
                        deliveries.Posted(run, channel, seq);
                        if (sent >= measureFrom)
                        {
                            Interlocked.Increment(ref ok);
                            lock (postTimes)
                            {
                                postTimes.Add(took);
                            }
                        }
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                        statuses.AddOrUpdate(((int)status).ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    statuses.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
                }
                finally
                {
                    slots.Release();
                }
            }));
        }
        await Task.Delay(1);
    }
    await Task.WhenAll(pending);
    return new SendResult(ok / measured.TotalSeconds, errors, measureFrom, Stats.PercentileMs(postTimes, 0.5),
        string.Join(", ", statuses.Select(kv => $"{kv.Key} x{kv.Value}")));
}

async Task<double> DrainAsync(int run, long expected, TimeSpan timeout)
{
    var watch = Stopwatch.StartNew();
    while (deliveries.Received(run) < expected && watch.Elapsed < timeout)
    {
        await Task.Delay(20);
    }
    return watch.Elapsed.TotalSeconds;
}

async Task WaitCaughtUpAsync(TimeSpan timeout)
{
    var watch = Stopwatch.StartNew();
    while (true)
    {
        await using var cmd = db.CreateCommand("""
            select (select coalesce(max(position), 0) from es_events),
                   coalesce((select min(position) from es_checkpoints where name in ('push', 'projection:directory')), -1),
                   (select count(*) from es_checkpoints where name in ('push', 'projection:directory'))
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (head, reached, count) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        if (count == 2 && reached >= head)
        {
            Console.WriteLine($"push worker and directory at the head ({head:N0}) after {watch.Elapsed.TotalSeconds:F1} s");
            return;
        }
        if (watch.Elapsed > timeout)
        {
            throw new TimeoutException($"push/directory did not reach {head} within {timeout}: at {reached}\n{host.Output}");
        }
        await Task.Delay(250);
    }
}

// POST sent -> frame received, in Stopwatch ticks, for the run's messages sent at or after `from`.
List<long> LatencyTicks(int run, long from) =>
    [.. deliveries.Samples(run).Where(s => s.Sent >= from).Select(s => s.Received - s.Sent)];

// Posts appended as the API appends them (message.posted.v1 with the data of MessagePosted, the ws_messages rows
// and ws_channels.version in the same transaction); answers their seqs.
async Task<List<long>> AppendPostsAsync(int channel, int user, int count, string text)
{
    await using var conn = await db.OpenConnectionAsync();
    await using var tx = await conn.BeginTransactionAsync();
    await using var cmd = new NpgsqlCommand("""
        with w as (select version from ws_channels where channel_id = $1 for update)
        select w.version, a.out_version from w, es_append('channel-' || $1, w.version,
            array(select gen_random_uuid() from generate_series(1, $3)),
            array_fill('message.posted.v1'::text, array[$3]),
            array(select jsonb_build_object('channelId', $1, 'messageId', replace(gen_random_uuid()::text, '-', ''), 'userId', $2,
                                            'text', $4, 'threadRootSeq', null,
                                            'mentions', jsonb_build_object('userIds', '[]'::jsonb, 'channel', false, 'here', false))
                    from generate_series(1, $3)),
            array_fill($5::jsonb || jsonb_build_object('actor', $2), array[$3]),
            now()) a
        """, conn, tx);
    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channelIds[channel] });
    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = users[user] });
    cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = text });
    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = meta });
    long from, to;
    await using (var reader = await cmd.ExecuteReaderAsync())
    {
        await reader.ReadAsync();
        (from, to) = (reader.GetInt64(0), reader.GetInt64(1));
    }
    await using var rows = new NpgsqlCommand("""
        with rows as (
            insert into ws_messages (channel_id, seq, author_id, thread_root_seq) select $1, v, $2, null from generate_series($3, $4) v)
        update ws_channels set version = $4 where channel_id = $1
        """, conn, tx);
    rows.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channelIds[channel] });
    rows.Parameters.Add(new NpgsqlParameter<string> { TypedValue = users[user] });
    rows.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from + 1 });
    rows.Parameters.Add(new NpgsqlParameter<long> { TypedValue = to });
    await rows.ExecuteNonQueryAsync();
    await tx.CommitAsync();
    return [.. Enumerable.Range(0, (int)(to - from)).Select(i => from + 1 + i)];
}

async Task<(long Head, long Checkpoint)> PushCheckpointAsync()
{
    await using var cmd = db.CreateCommand("select (select coalesce(max(position), 0) from es_events), (select position from es_checkpoints where name = 'push')");
    await using var reader = await cmd.ExecuteReaderAsync();
    await reader.ReadAsync();
    return (reader.GetInt64(0), reader.GetInt64(1));
}

async Task<long> EventsBetweenAsync(long after, long upTo)
{
    await using var cmd = db.CreateCommand("select count(*) from es_events where position > $1 and position <= $2");
    cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after });
    cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = upTo });
    return (long)(await cmd.ExecuteScalarAsync())!;
}

static int OpenFilesLimit()
{
    foreach (var line in File.ReadLines("/proc/self/limits"))
    {
        if (line.StartsWith("Max open files", StringComparison.Ordinal))
        {
            var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return soft == "unlimited" ? int.MaxValue : int.Parse(soft, CultureInfo.InvariantCulture);
        }
    }
    return 1024;
}

static string Load() => "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

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

/// <summary>CPU time (user + system, from /proc) of the host and of this process over a phase.</summary>
internal sealed class CpuMeter
{
    private readonly int _pid;
    private readonly double _host;
    private readonly double _self;
    private readonly long _start;

    private CpuMeter(int pid)
    {
        _pid = pid;
        _host = Seconds(pid);
        _self = Seconds(Environment.ProcessId);
        _start = Stopwatch.GetTimestamp();
    }

    public static CpuMeter Start(int pid) => new(pid);

    public string Stop()
    {
        var wall = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        var host = Seconds(_pid) - _host;
        var self = Seconds(Environment.ProcessId) - _self;
        return string.Create(CultureInfo.InvariantCulture, $"host CPU {host:F1} s ({host / wall:P0} of a core), bench CPU {self:F1} s ({self / wall:P0}) in {wall:F1} s");
    }

    /// <summary>utime + stime of /proc/{pid}/stat (fields 14 and 15, in clock ticks of 1/100 s).</summary>
    public static double Seconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}

internal sealed record SendResult(double Achieved, long Errors, long MeasureFrom, double PostP50, string ErrorKinds);
