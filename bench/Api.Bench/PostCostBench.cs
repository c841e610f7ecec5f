using System.Diagnostics;
using System.Globalization;
using System.Net;
using EventSourcedChat.ReadSideBench;
using Npgsql;

namespace EventSourcedChat.ApiBench;

/// <summary>
/// The cost of one post on the write path (<c>--post-cost</c>): the host runs the <c>api</c> role only (no projections,
/// no push worker), so what is measured is the request, its authentication, its decision and its append. Per phase:
/// CPU of the host process and of the PostgreSQL backends serving the bench database (from /proc), the database's
/// commits and row changes (pg_stat_database), all divided by the posts. With <c>--pg-log PATH</c> (the server's log
/// file), a last phase on a fresh host logs every statement of the bench database and counts them per post.
/// </summary>
internal static class PostCostBench
{
    private sealed record Snapshot(TimeSpan HostCpu, double PostgresCpuMs, long Commits, long Rows);

    public static async Task<int> RunAsync(string dll, string connectionString, string? pgLog, int posts, bool allRoles = false)
    {
        // With every role (--roles all) the figures add what a post costs after its commit: the projections' shared
        // reader, the push worker and their checkpoints (RabbitMQ's CPU is not counted).
        var roles = allRoles ? new Dictionary<string, string>() : new Dictionary<string, string> { ["Roles"] = "api" };
        var db = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var stats = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        Console.WriteLine($"post cost: host {dll}, roles {(allRoles ? "all" : "api")}, database {db}, {posts} posts per phase");
        var rows = new List<string>();
        using (var gateway = GatewayProcess.Start(dll, connectionString, 0, roles))
        {
            using var http = ChatApi.CreateClient(gateway.BaseAddress);
            await gateway.WaitLiveAsync(http, TimeSpan.FromSeconds(120));
            var api = new ChatApi(http);
            var (users, hot, own) = await SetUpAsync(api);
            foreach (var (name, clients) in new (string, Func<int, PostingClient[]>)[]
            {
                ("1 client, 1 channel, sequential", _ => [new PostingClient(users[0], [hot])]),
                ("32 clients, 1 channel", n => users.Select(u => new PostingClient(u, [hot])).ToArray()),
                ("32 clients, 32 channels", n => users.Select((u, i) => new PostingClient(u, [own[i]])).ToArray()),
            })
            {
                var cs = clients(0);
                await PostAsync(api, cs, 20 * cs.Length); // warm-up
                await Task.Delay(TimeSpan.FromSeconds(11)); // backends flush their statistics when idle
                var before = await SnapshotAsync(stats, db, gateway.Pid);
                var watch = Stopwatch.StartNew();
                await PostAsync(api, cs, posts);
                var seconds = watch.Elapsed.TotalSeconds;
                await Task.Delay(TimeSpan.FromSeconds(11));
                var after = await SnapshotAsync(stats, db, gateway.Pid);
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {posts / seconds:F0} | {(after.HostCpu - before.HostCpu).TotalMilliseconds / posts:F3} | {(after.PostgresCpuMs - before.PostgresCpuMs) / posts:F3} | {(double)(after.Commits - before.Commits) / posts:F2} | {(double)(after.Rows - before.Rows) / posts:F2} |"));
                Console.WriteLine(rows[^1]);
            }
        }
        Console.WriteLine();
        Console.WriteLine("| phase | posts/s | host CPU ms/post | PostgreSQL CPU ms/post | commits/post | rows written/post |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        rows.ForEach(Console.WriteLine);
        if (pgLog is not null)
        {
            await CountStatementsAsync(dll, connectionString, stats, db, pgLog, roles);
        }
        return 0;
    }

    private static async Task<(BenchUser[] Users, string Hot, string[] Own)> SetUpAsync(ChatApi api)
    {
        var admin = await api.RegisterAsync("admin");
        var workspace = await api.CreateWorkspaceAsync(admin, "Cost");
        var users = new BenchUser[32];
        for (var i = 0; i < users.Length; i++)
        {
            users[i] = await api.RegisterAsync($"u{i}");
            await api.AddMemberAsync(admin, workspace, users[i]);
        }
        var hot = await api.CreateChannelAsync(admin, workspace, "hot");
        var own = new string[users.Length];
        for (var i = 0; i < users.Length; i++)
        {
            await api.TryJoinAsync(users[i], hot);
            own[i] = await api.CreateChannelAsync(users[i], workspace, $"own{i}");
        }
        return (users, hot, own);
    }

    /// <summary><paramref name="posts"/> posts shared among the clients, each posting one after another.</summary>
    private static async Task PostAsync(ChatApi api, IReadOnlyList<PostingClient> clients, int posts)
    {
        var next = -1;
        await Task.WhenAll(clients.Select(c => Task.Run(async () =>
        {
            var path = ChatApi.MessagesPath(c.ChannelIds[0]);
            while (Interlocked.Increment(ref next) < posts)
            {
                var status = await api.PostMessageAsync(c.User, path, ChatApi.PostBody($"cost {next}"));
                if (status != HttpStatusCode.Created)
                {
                    throw new InvalidOperationException($"post answered {(int)status}");
                }
            }
        })));
    }

    private static async Task<Snapshot> SnapshotAsync(NpgsqlDataSource stats, string db, int hostPid)
    {
        var hostCpu = Process.GetProcessById(hostPid).TotalProcessorTime;
        var pids = new List<int>();
        await using (var cmd = stats.CreateCommand("select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()"))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = db });
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                pids.Add(r.GetInt32(0));
            }
        }
        var ticks = pids.Sum(CpuTicks);
        await using var totals = stats.CreateCommand(
            "select xact_commit, tup_inserted + tup_updated + tup_deleted from pg_stat_database where datname = $1");
        totals.Parameters.Add(new NpgsqlParameter { Value = db });
        await using var t = await totals.ExecuteReaderAsync();
        await t.ReadAsync();
        return new Snapshot(hostCpu, ticks * 10.0, t.GetInt64(0), t.GetInt64(1)); // 100 ticks per second
    }

    /// <summary>utime + stime of a process, in clock ticks (0 when it is gone).</summary>
    private static long CpuTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>On a fresh host (its connections pick up the setting), logs every statement of the bench database and counts them per post.</summary>
    private static async Task CountStatementsAsync(
        string dll, string connectionString, NpgsqlDataSource stats, string db, string pgLog, Dictionary<string, string> roles)
    {
        const int Posts = 100;
        await using (var set = stats.CreateCommand($"alter database \"{db}\" set log_min_duration_statement = 0"))
        {
            await set.ExecuteNonQueryAsync();
        }
        try
        {
            using var gateway = GatewayProcess.Start(dll, connectionString, 0, roles);
            using var http = ChatApi.CreateClient(gateway.BaseAddress);
            await gateway.WaitLiveAsync(http, TimeSpan.FromSeconds(120));
            var api = new ChatApi(http);
            var user = await api.RegisterAsync("logged");
            var workspace = await api.CreateWorkspaceAsync(user, "Logged");
            var channel = await api.CreateChannelAsync(user, workspace, "logged");
            await PostAsync(api, [new PostingClient(user, [channel])], 20);
            var from = new FileInfo(pgLog).Length;
            await PostAsync(api, [new PostingClient(user, [channel])], Posts);
            await Task.Delay(500);
            var to = new FileInfo(pgLog).Length;
            var pids = new HashSet<string>();
            await using (var cmd = stats.CreateCommand("select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()"))
            {
                cmd.Parameters.Add(new NpgsqlParameter { Value = db });
                await using var r = await cmd.ExecuteReaderAsync();
                while (await r.ReadAsync())
                {
                    pids.Add($"[{r.GetInt32(0)}]");
                }
            }
            await using var log = new FileStream(pgLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            log.Seek(from, SeekOrigin.Begin);
            var buffer = new byte[to - from];
            await log.ReadExactlyAsync(buffer);
            var counts = new SortedDictionary<string, int>();
            foreach (var line in System.Text.Encoding.UTF8.GetString(buffer).Split('\n'))
            {
                var at = line.IndexOf("LOG:  duration:", StringComparison.Ordinal);
                if (at < 0 || !pids.Any(p => line.Contains(p, StringComparison.Ordinal)))
                {
                    continue;
                }
                var rest = line[(line.IndexOf(" ms  ", at, StringComparison.Ordinal) + 5)..];
                var text = rest.Contains(':', StringComparison.Ordinal) ? rest[(rest.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim() : rest;
                var kind = rest.Split(' ')[0];
                var key = $"{kind,-10} {(text.Length > 90 ? text[..90] : text)}";
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
            Console.WriteLine();
            Console.WriteLine($"statements per post ({Posts} sequential posts, log_min_duration_statement = 0 on {db}):");
            foreach (var (key, n) in counts.OrderByDescending(c => c.Value))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(double)n / Posts,6:F2}  {key}"));
            }
        }
        finally
        {
            await using var reset = stats.CreateCommand($"alter database \"{db}\" reset log_min_duration_statement");
            await reset.ExecuteNonQueryAsync();
        }
    }
}
