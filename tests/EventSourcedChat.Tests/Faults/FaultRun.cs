using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Faults;

/// <summary>
/// One fault under load: fresh users and channels, posting and listening clients, the fault at a random moment, then
/// a bounded wait for recovery and the checks (acknowledged messages in history once and in order, every listener got
/// each message of its channels once and in order, projections equal a fresh rebuild).
/// </summary>
public sealed class FaultRun(FaultCluster cluster, ITestOutputHelper output)
{
    private const int PosterCount = 3;
    private const int ListenerCount = 4;
    private const int ChannelCount = 3;

    /// <summary>Load before the fault: a random moment in this range.</summary>
    private static readonly (double From, double To) FaultWindowSeconds = (2, 6);

    /// <summary>Load goes on at least this long in all, and at least <see cref="LoadAfterRestart"/> after the fault is over.</summary>
    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(12);

    private static readonly TimeSpan LoadAfterRestart = TimeSpan.FromSeconds(4);

    /// <summary>Bound of every wait for the system to settle after the load.</summary>
    private static readonly TimeSpan SettleBound = TimeSpan.FromSeconds(90);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private void Log(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:0.0}s {what}");

    /// <summary>
    /// Runs the load, <paramref name="inject"/>s the fault and checks; with <paramref name="notifications"/>, mentions of
    /// people who are away run beside the load and every one must be mailed to each of them exactly once.
    /// </summary>
    public async Task<FaultResult> RunAsync(string fault, Func<Task> inject, TimeSpan recoveryBound, bool notifications = false)
    {
        var random = new Random(cluster.Seed + Array.IndexOf(FaultTable.Order, fault));
        var problems = new List<string>();
        await Eventually.Until(AllReadyAsync, ok => ok, TimeSpan.FromSeconds(90), "every process to be ready before the fault");

        var runId = Guid.NewGuid().ToString("N")[..8];
        var outputMarks = cluster.Processes.ToDictionary(p => p.Name, p => p.OutputLength);
        var (posters, listeners, workspace) = await SetUpAsync(runId);
        var mentions = notifications ? await NotificationLoad.SetUpAsync(RegisterAsync, posters[0].User, workspace, runId, _clock) : null;
        using var stopListening = new CancellationTokenSource();
        var listening = listeners.Select(l => Task.Run(() => l.RunAsync(stopListening.Token))).ToList();
        await Task.WhenAll(listeners.Select(l => l.Started.Task)).WaitAsync(TimeSpan.FromSeconds(60));
        Log($"{listeners.Count} listeners resumed on {string.Join(", ", cluster.Gateways.Select(g => g.HubUrl))}");

        using var stopPosting = new CancellationTokenSource();
        using var giveUp = new CancellationTokenSource();
        var start = _clock.Elapsed;
        var posting = posters.Select(p => Task.Run(() => p.RunAsync(stopPosting.Token, giveUp.Token))).ToList();
        if (mentions is not null)
        {
            posting.Add(Task.Run(() => mentions.RunAsync(stopPosting.Token, giveUp.Token)));
        }

        // The load runs for a random while before the fault (a load duration, not a wait for a result).
        var window = FaultWindowSeconds.From + (random.NextDouble() * (FaultWindowSeconds.To - FaultWindowSeconds.From));
        await Task.Delay(TimeSpan.FromSeconds(window));
        var faultAt = _clock.Elapsed;
        var faultAtUtc = DateTime.UtcNow;
        Log($"fault: {fault} ({posters.Sum(p => p.Acks.Count)} acknowledged so far)");
        await inject();
        var injected = _clock.Elapsed;
        Log($"fault over (process or service back) after {(injected - faultAt).TotalSeconds:0.0} s");

        // From now on, note the first moment every process is ready again.
        using var stopWatching = new CancellationTokenSource();
        var readyWatch = Task.Run(() => FirstTimeAsync(AllReadyAsync, stopWatching.Token));
        var presenceWatch = Task.Run(() => FirstTimeAsync(() => PresenceRestoredAsync(listeners), stopWatching.Token));

        var loadEnd = TimeSpan.FromTicks(Math.Max((start + LoadDuration).Ticks, (injected + LoadAfterRestart).Ticks));
        if (loadEnd > _clock.Elapsed)
        {
            await Task.Delay(loadEnd - _clock.Elapsed);
        }
        await stopPosting.CancelAsync();
        giveUp.CancelAfter(SettleBound);
        await Task.WhenAll(posting);
        var acks = posters.SelectMany(p => p.Acks).ToList();
        var failures = posters.SelectMany(p => p.Failures).GroupBy(f => f.Key).ToDictionary(g => g.Key, g => g.Sum(f => f.Value));
        Log($"posting stopped: {acks.Count} acknowledged, failed attempts (retried) {Describe(failures)}, abandoned {posters.Sum(p => p.Abandoned)}");

        TimeSpan? readyAt = null;
        try
        {
            readyAt = await readyWatch.WaitAsync(SettleBound);
        }
        catch (TimeoutException)
        {
            problems.Add($"not every process was ready within {SettleBound.TotalSeconds} s of the fault: {await ReadinessAsync()}");
        }
        TimeSpan? presenceAt = null;
        try
        {
            presenceAt = await presenceWatch.WaitAsync(SettleBound);
        }
        catch (TimeoutException)
        {
            problems.Add($"presence was not restored within {SettleBound.TotalSeconds} s of the fault: {await PresenceStateAsync(listeners)}");
        }
        await stopWatching.CancelAsync();

        if (!await SettledAsync())
        {
            problems.Add("the projections or the push worker did not reach the end of the log");
        }
        var history = await HistoryAsync(posters[0].User, posters[0].Channels, problems);
        Log($"history read: {history.Values.Sum(h => h.Count)} messages in {history.Count} channels");
        await ConvergedAsync(listeners, history);
        await stopListening.CancelAsync();
        await Task.WhenAll(listening);

        var counts = Check(acks, posters, listeners, history, problems);
        var rebuild = await RebuildComparison.DifferingRowsAsync(cluster.Db, CancellationToken.None);
        foreach (var (projection, rows) in rebuild.Where(r => r.Value != 0))
        {
            problems.Add($"projection {projection}: {rows} rows differ from a fresh rebuild");
        }
        NotificationResult? mailed = null;
        if (mentions is not null)
        {
            mailed = await mentions.CheckAsync(cluster.Db, cluster.Smtp.MailDir, faultAtUtc, injected, SettleBound);
            problems.AddRange(mailed.Problems.Take(10));
            Log($"notifications: {mailed.Mentions} mentions acknowledged, {mailed.Expected} notifications expected, {mailed.Mails} mails, " +
                $"lost {mailed.Lost}, sent twice {mailed.SentTwice}, copies of one mail {mailed.Copies}, failed SMTP attempts (retried) {mailed.FailedAttempts}, " +
                $"the last of those acknowledged until the fault was over mailed at +{mailed.MailedBy?.TotalSeconds:0.0} s");
        }
        var caughtUp = CaughtUpAt(acks, listeners, injected);
        var posted = acks.Where(a => a.At >= injected).Select(a => (TimeSpan?)a.At).Min();
        if (caughtUp is null)
        {
            problems.Add("the listeners never received every message acknowledged during the fault");
        }
        if (posted is null)
        {
            problems.Add("no post was acknowledged after the fault");
        }
        TimeSpan? recovery = readyAt is { } ready && caughtUp is { } delivered && posted is { } accepted && presenceAt is { } present
            ? TimeSpan.FromTicks(new[] { ready.Ticks, delivered.Ticks, accepted.Ticks, present.Ticks }.Max()) - faultAt
            : null;
        Log($"recovery: every process ready at +{(readyAt - faultAt)?.TotalSeconds:0.0} s, every listener had every message acknowledged " +
            $"until then at +{(caughtUp - faultAt)?.TotalSeconds:0.0} s, first acknowledgement after it at +{(posted - faultAt)?.TotalSeconds:0.0} s, " +
            $"presence and gateway registry back at +{(presenceAt - faultAt)?.TotalSeconds:0.0} s");
        Log($"listeners: reconnects {listeners.Sum(l => l.Reconnects)}, failed connect/resume attempts {listeners.Sum(l => l.FailedAttempts)}");
        foreach (var process in cluster.Processes)
        {
            var lines = process.OutputSince(outputMarks[process.Name]).ToList();
            var notes = lines
                .Where(line => line.Contains("warn", StringComparison.OrdinalIgnoreCase) || line.Contains("fail", StringComparison.OrdinalIgnoreCase))
                .ToList();
            if (notes.Count > 0)
            {
                Log($"{process.Name} logged {notes.Count} warnings/errors, e.g. {string.Join(" | ", notes.Take(3).Select(n => n.Trim()))}");
            }
            var unconfirmed = lines.Count(line => line.Contains("did not confirm a batch", StringComparison.Ordinal));
            if (unconfirmed > 0)
            {
                Log($"{process.Name}: {unconfirmed} push batches were not confirmed in time and were sent again");
            }
        }

        var result = new FaultResult(fault, faultAt - start, injected - faultAt, acks.Count, failures.Values.Sum(), counts.Lost, counts.Duplicated,
            counts.OutOfOrder, counts.Deliveries, listeners.Sum(l => l.Reconnects), rebuild.Values.Sum(), recovery, recoveryBound, problems, mailed);
        if (!result.Passed)
        {
            foreach (var process in cluster.Processes)
            {
                var log = process.Output;
                output.WriteLine($"--- {process.Name} output (last 4000 characters) ---\n{log[Math.Max(0, log.Length - 4000)..]}");
            }
        }
        if (_redis is not null)
        {
            await _redis.CloseAsync();
            _redis.Dispose();
            _redis = null;
        }
        return result;
    }

    private static string Describe(IReadOnlyDictionary<string, int> failures) =>
        failures.Count == 0 ? "none" : string.Join(", ", failures.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}: {f.Value}"));

    /// <summary>A workspace of fresh users: posters in every channel, each listener in two of the three.</summary>
    private async Task<(List<Poster> Posters, List<Listener> Listeners, string Workspace)> SetUpAsync(string runId)
    {
        var users = new List<TestUser>();
        for (var i = 0; i < PosterCount + ListenerCount; i++)
        {
            users.Add(await RegisterAsync(i < PosterCount ? $"poster{i}" : $"listener{i - PosterCount}"));
        }
        var admin = users[0];
        var ws = (await admin.Ok("POST", "/v1/workspaces", new { name = $"faults {runId}" }, HttpStatusCode.Created)).GetProperty("workspaceId").GetString()!;
        foreach (var user in users.Skip(1))
        {
            await admin.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = user.UserId });
        }
        var channels = new List<string>();
        for (var c = 0; c < ChannelCount; c++)
        {
            channels.Add((await admin.Ok("POST", $"/v1/workspaces/{ws}/channels", new { name = $"load-{c}" }, HttpStatusCode.Created))
                .GetProperty("channelId").GetString()!);
        }
        var memberships = ChannelCount;
        var posters = new List<Poster> { new(0, admin, channels, _clock, runId, cluster.Seed) };
        for (var i = 1; i < PosterCount; i++)
        {
            foreach (var channel in channels)
            {
                await users[i].Ok("POST", $"/v1/channels/{channel}/join");
                memberships++;
            }
            posters.Add(new Poster(i, users[i], channels, _clock, runId, cluster.Seed));
        }
        var listeners = new List<Listener>();
        for (var i = 0; i < ListenerCount; i++)
        {
            var user = users[PosterCount + i];
            string[] mine = [channels[i % ChannelCount], channels[(i + 1) % ChannelCount]];
            foreach (var channel in mine)
            {
                await user.Ok("POST", $"/v1/channels/{channel}/join");
                memberships++;
            }
            listeners.Add(new Listener(i, user, mine, node => cluster.Gateways[node % cluster.Gateways.Count].HubUrl, _clock));
        }
        // Gateways read a connection's channels from the directory read model.
        await Eventually.Until(async () =>
        {
            await using var cmd = cluster.Db.CreateCommand("select count(*) from rm_directory.channel_members where channel_id = any($1)");
            cmd.Parameters.AddWithValue(channels.ToArray());
            return (long)(await cmd.ExecuteScalarAsync())!;
        }, n => n == memberships, TimeSpan.FromSeconds(30), "the directory to list every membership");
        return (posters, listeners, ws);
    }

    private async Task<TestUser> RegisterAsync(string name)
    {
        var client = new HttpClient { BaseAddress = cluster.Api.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        var email = $"{name}-{Guid.NewGuid():N}@example.test";
        using var response = await client.PostAsJsonAsync("/v1/auth/register", new { email, password = "correct horse battery", displayName = name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        return new TestUser(body.GetProperty("userId").GetString()!, email, client);
    }

    private async Task<bool> AllReadyAsync() => (await Task.WhenAll(cluster.Processes.Select(p => p.ReadyAsync()))).All(ready => ready);

    private async Task<string> ReadinessAsync()
    {
        var states = new List<string>();
        foreach (var process in cluster.Processes)
        {
            states.Add($"{process.Name} {(await process.ReadyAsync() ? "ready" : "not ready")}");
        }
        return string.Join(", ", states);
    }

    /// <summary>The first moment <paramref name="condition"/> holds (polled every 200 ms).</summary>
    private async Task<TimeSpan> FirstTimeAsync(Func<Task<bool>> condition, CancellationToken ct)
    {
        while (true)
        {
            if (await condition())
            {
                return _clock.Elapsed;
            }
            await Task.Delay(200, ct);
        }
    }

    /// <summary>
    /// Presence works again as before the fault: Redis has expired-key notifications on (a restarted Redis forgets the
    /// setting), every listener (connected) is <c>active</c>, and both gateways are registered for <c>/v1/connect</c>.
    /// </summary>
    private async Task<bool> PresenceRestoredAsync(List<Listener> listeners) => await PresenceStateAsync(listeners) == "restored";

    private async Task<string> PresenceStateAsync(List<Listener> listeners)
    {
        try
        {
            var redis = await RedisAsync();
            var db = redis.GetDatabase();
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            var events = (await server.ConfigGetAsync("notify-keyspace-events")).FirstOrDefault().Value ?? "";
            if (!events.Contains('E', StringComparison.Ordinal) || !(events.Contains('x', StringComparison.Ordinal) || events.Contains('A', StringComparison.Ordinal)))
            {
                return $"notify-keyspace-events is '{events}'";
            }
            var inactive = 0;
            foreach (var listener in listeners)
            {
                if (await db.StringGetAsync($"esc:presence:{listener.User.UserId}") != "active")
                {
                    inactive++;
                }
            }
            if (inactive > 0)
            {
                return $"{inactive} connected listeners are not active";
            }
            var nodes = await db.SetMembersAsync("esc:gateways");
            var values = await db.StringGetAsync([.. nodes.Select(n => (StackExchange.Redis.RedisKey)$"esc:gateway:{n}")]);
            var urls = values.Where(v => !v.IsNull).Select(v => JsonDocument.Parse((string)v!).RootElement.GetProperty("url").GetString()).ToHashSet();
            var missing = cluster.Gateways.Count(g => !urls.Contains(g.HubUrl));
            return missing == 0 ? "restored" : $"{missing} gateways are not registered";
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            return $"Redis does not answer: {e.Message}";
        }
    }

    private StackExchange.Redis.ConnectionMultiplexer? _redis;

    private async Task<StackExchange.Redis.ConnectionMultiplexer> RedisAsync()
    {
        if (_redis is null)
        {
            var options = StackExchange.Redis.ConfigurationOptions.Parse(cluster.Redis.ConnectionString);
            options.AbortOnConnectFail = false;
            options.AllowAdmin = true;
            options.ConnectTimeout = 2000;
            options.SyncTimeout = 2000;
            _redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(options);
        }
        return _redis;
    }

    /// <summary>Waits until every projection and the push worker have handled the whole log.</summary>
    private async Task<bool> SettledAsync()
    {
        string[] names = [.. RebuildComparison.Projections.Select(p => p.CheckpointName), Projections.Push.PushOptions.CheckpointName];
        try
        {
            await Eventually.Until(async () =>
            {
                try
                {
                    await using var cmd = cluster.Db.CreateCommand("""
                        select count(*) from es_checkpoints c
                         where c.name = any($1)
                           and not exists (select 1 from es_events e where (e.tx_id, e.position) > (c.tx_id, c.position))
                        """);
                    cmd.Parameters.AddWithValue(names);
                    return (long)(await cmd.ExecuteScalarAsync())!;
                }
                catch (NpgsqlException)
                {
                    return -1L;
                }
            }, n => n == names.Length, SettleBound, "every projection and the push worker to reach the end of the log");
            return true;
        }
        catch (TimeoutException e)
        {
            Log(e.Message);
            return false;
        }
    }

    /// <summary>Every channel's top-level messages through the REST history API, oldest first: (seq, text).</summary>
    private async Task<Dictionary<string, List<(long Seq, string Text)>>> HistoryAsync(TestUser reader, IReadOnlyList<string> channels, List<string> problems)
    {
        var history = new Dictionary<string, List<(long Seq, string Text)>>(StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            var messages = new List<(long Seq, string Text)>();
            long after = 0;
            while (true)
            {
                using var response = await reader.Client.GetAsync(new Uri($"/v1/channels/{channel}/messages?after={after}&limit=200", UriKind.Relative));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    problems.Add($"history of {channel} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    break;
                }
                var page = await response.Content.ReadFromJsonAsync<JsonElement>();
                foreach (var m in page.GetProperty("messages").EnumerateArray())
                {
                    messages.Add((m.GetProperty("seq").GetInt64(), m.GetProperty("text").GetString()!));
                }
                if (!page.GetProperty("hasMore").GetBoolean() || messages.Count == 0)
                {
                    break;
                }
                after = messages[^1].Seq;
            }
            history[channel] = messages;
        }
        return history;
    }

    /// <summary>Waits (bounded) until every listener has received every message of its channels that history holds.</summary>
    private async Task ConvergedAsync(List<Listener> listeners, Dictionary<string, List<(long Seq, string Text)>> history)
    {
        bool Complete(Listener l)
        {
            var got = l.Received.Select(d => (d.ChannelId, d.Seq)).ToHashSet();
            return l.Channels.All(c => history[c].All(m => got.Contains((c, m.Seq))));
        }
        try
        {
            await Eventually.Until(() => listeners.All(Complete), SettleBound, "every listener to receive every message of its channels");
        }
        catch (TimeoutException)
        {
            Log("not every listener received everything (counted as lost below)");
        }
    }

    private readonly record struct Counts(int Lost, int Duplicated, int OutOfOrder, int Deliveries);

    private static Counts Check(
        List<Acknowledged> acks, List<Poster> posters, List<Listener> listeners,
        Dictionary<string, List<(long Seq, string Text)>> history, List<string> problems)
    {
        int lost = 0, duplicated = 0, outOfOrder = 0, deliveries = 0;
        var stored = new Dictionary<(string Channel, string Text), List<long>>();
        foreach (var (channel, messages) in history)
        {
            outOfOrder += Inversions(messages.Select(m => m.Seq).ToList());
            foreach (var (seq, text) in messages)
            {
                (stored.TryGetValue((channel, text), out var seqs) ? seqs : stored[(channel, text)] = []).Add(seq);
            }
        }
        foreach (var ((channel, text), seqs) in stored.Where(s => s.Value.Count > 1))
        {
            duplicated += seqs.Count - 1;
            problems.Add($"{text} is in the history of {channel} {seqs.Count} times (seqs {string.Join(", ", seqs)})");
        }
        foreach (var ack in acks)
        {
            if (!stored.TryGetValue((ack.ChannelId, ack.ClientMsgId), out var seqs))
            {
                lost++;
                problems.Add($"{ack.ClientMsgId}, acknowledged as seq {ack.Seq} of {ack.ChannelId}, is not in its history");
            }
            else if (!seqs.Contains(ack.Seq))
            {
                lost++;
                problems.Add($"{ack.ClientMsgId}, acknowledged as seq {ack.Seq}, is in history at seq {seqs[0]}");
            }
        }
        var acknowledged = acks.Select(a => a.ClientMsgId).ToHashSet(StringComparer.Ordinal);
        var unacknowledged = stored.Keys.Count(k => !acknowledged.Contains(k.Text));
        if (unacknowledged > posters.Sum(p => p.Abandoned))
        {
            problems.Add($"{unacknowledged} stored messages were never acknowledged although every post was retried until it was");
        }
        foreach (var poster in posters)
        {
            // One poster posts one message at a time: its messages to a channel have increasing seqs.
            foreach (var perChannel in poster.Acks.GroupBy(a => a.ChannelId))
            {
                outOfOrder += Inversions(perChannel.Select(a => a.Seq).ToList());
            }
            if (poster.Abandoned > 0)
            {
                problems.Add($"poster {poster.User.UserId} gave up on a message (never acknowledged)");
            }
        }
        foreach (var listener in listeners)
        {
            var received = listener.Received;
            foreach (var stray in received.Where(d => !listener.Channels.Contains(d.ChannelId)).Take(1))
            {
                problems.Add($"listener {listener.User.UserId} received a message of {stray.ChannelId}, a channel it is not in");
            }
            foreach (var channel in listener.Channels)
            {
                var expected = history[channel];
                var got = received.Where(d => d.ChannelId == channel).ToList();
                var seqs = got.Select(d => d.Seq).ToList();
                deliveries += expected.Count;
                var missing = expected.Select(m => m.Seq).Except(seqs).ToList();
                lost += missing.Count;
                if (missing.Count > 0)
                {
                    problems.Add($"listener {listener.User.UserId} missed {missing.Count} messages of {channel} (seqs {string.Join(", ", missing.Take(10))})");
                }
                var repeated = seqs.Count - seqs.Distinct().Count();
                duplicated += repeated;
                if (repeated > 0)
                {
                    problems.Add($"listener {listener.User.UserId} received {repeated} messages of {channel} twice");
                }
                var inversions = Inversions(seqs);
                outOfOrder += inversions;
                if (inversions > 0)
                {
                    problems.Add($"listener {listener.User.UserId} received {inversions} messages of {channel} out of order");
                }
                var texts = expected.ToDictionary(m => m.Seq, m => m.Text);
                foreach (var wrong in got.Where(d => !texts.TryGetValue(d.Seq, out var text) || text != d.Text).Take(3))
                {
                    problems.Add($"listener {listener.User.UserId} received seq {wrong.Seq} of {channel} as '{wrong.Text}', which history does not have");
                }
            }
            if (listener.Resyncs > 0)
            {
                problems.Add($"listener {listener.User.UserId} was told resync.required {listener.Resyncs} times");
            }
        }
        return new Counts(lost, duplicated, outOfOrder, deliveries);
    }

    /// <summary>Adjacent pairs whose seq does not increase.</summary>
    private static int Inversions(List<long> seqs) => seqs.Zip(seqs.Skip(1)).Count(p => p.Second <= p.First);

    /// <summary>
    /// When delivery had caught up with the fault: the moment the last listener received the last of the messages
    /// acknowledged until the fault was over (null when one never arrived).
    /// </summary>
    private static TimeSpan? CaughtUpAt(List<Acknowledged> acks, List<Listener> listeners, TimeSpan over)
    {
        var received = listeners.ToDictionary(l => l, l => l.Received.GroupBy(d => (d.ChannelId, d.Seq)).ToDictionary(g => g.Key, g => g.First().At));
        var last = TimeSpan.Zero;
        foreach (var ack in acks.Where(a => a.At <= over))
        {
            foreach (var listener in listeners.Where(l => l.Channels.Contains(ack.ChannelId)))
            {
                if (!received[listener].TryGetValue((ack.ChannelId, ack.Seq), out var at))
                {
                    return null;
                }
                last = at > last ? at : last;
            }
        }
        return last;
    }
}
