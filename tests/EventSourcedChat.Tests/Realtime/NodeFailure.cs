using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using StackExchange.Redis;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>
/// Gateway nodes as separate OS processes (the built host with role <c>gateway</c>) killed with SIGKILL; the shared
/// in-process host is the API node and the projector (push worker). Real PostgreSQL, RabbitMQ and Redis.
/// </summary>
public sealed class NodeFailure(PostgresFixture db) : RealtimeTest(db)
{
    /// <summary>Keys of this test run only; a 2 s presence TTL and a 3 s registration TTL keep "a node died" short.</summary>
    private readonly string _prefix = $"esc_tests_nodefailure:{Guid.NewGuid():N}:";
    private ConnectionMultiplexer? _redis;

    [Fact]
    public async Task Clients_of_a_gateway_killed_mid_stream_resume_on_the_other_node_with_nothing_lost_or_repeated()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carl = await RegisterAsync("carl");
        var ws = await WorkspaceAsync(ada, bob, carl);
        var general = await ChannelAsync(ada, ws, "general");
        await JoinAsync(bob, general);
        await JoinAsync(carl, general);
        await DirectoryAsync(general, [ada, bob, carl]);
        var (a, b) = await TwoGatewaysAsync();
        var (_, start) = await PostAsync(ada, general, "before");
        var readers = new[] { bob, carl };
        var onA = new List<HubClient>();
        foreach (var user in readers)
        {
            var hub = await HubClient.ConnectAsync(a.HubUrl, user);
            Own(hub);
            await hub.InvokeAsync("Resume", start);
            onA.Add(hub);
        }
        // The balancer hands out the least-loaded registered node: wait until A's heartbeat reports its two connections,
        // or a registration still saying 0 (written before the readers connected) would tie with B's.
        var loads = string.Join(" ", new[] { $"{a.HubUrl}=2", $"{b.HubUrl}=0" }.Order(StringComparer.Ordinal));
        await Eventually.Until(RegisteredAsync, r => r == loads, TimeSpan.FromSeconds(10), "both nodes' heartbeats with their loads");

        const int total = 300;
        var posting = Task.Run(async () =>
        {
            for (var i = 0; i < total; i++)
            {
                await PostAsync(ada, general, $"m {i}");
            }
        });
        // Mid-stream: both clients have some posts, the poster is still going.
        foreach (var hub in onA)
        {
            await hub.WaitUntilAsync(e => Posted(e, general).Count >= 50, what: "50 posts on node A");
        }
        a.Kill();
        Assert.False(posting.IsCompleted, "the posts should still be flowing when node A dies");
        foreach (var hub in onA)
        {
            await hub.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        }

        var onB = new List<HubClient>();
        for (var i = 0; i < readers.Length; i++)
        {
            var seen = Posted(onA[i].Events, general);
            var url = await ConnectUrlAsync(b, readers[i]);
            Assert.Equal(b.HubUrl, url);
            var hub = await HubClient.ConnectAsync(url, readers[i]);
            Own(hub);
            await hub.InvokeAsync("Resume", PositionOf(seen[^1]));
            onB.Add(hub);
        }
        await posting;

        var expected = Enumerable.Range(0, total).Select(i => $"m {i}").ToList();
        for (var i = 0; i < readers.Length; i++)
        {
            var beforeKill = Posted(onA[i].Events, general);
            var after = await onB[i].WaitUntilAsync(
                e => Posted(e, general).Count >= total - beforeKill.Count, TimeSpan.FromSeconds(30), "the rest of the posts on node B");
            var all = beforeKill.Concat(Posted(after, general)).ToList();
            Assert.Equal(expected, all.Select(TextOf));
            Assert.Equal(all.Select(PositionOf).Distinct().Order(), all.Select(PositionOf));
            Assert.True(beforeKill.Count < total, "node A died before it delivered everything");
        }
    }

    [Fact]
    public async Task A_killed_gateway_drops_out_of_connect_and_its_users_go_offline()
    {
        var bob = await RegisterAsync("bob");
        var carl = await RegisterAsync("carl");
        await WorkspaceAsync(carl, bob); // presence is visible only to those sharing a workspace
        await UntilDirectoryAsync(); // as the directory read model knows it
        var (a, b) = await TwoGatewaysAsync();
        var bobHub = Own(await HubClient.ConnectAsync(a.HubUrl, bob));
        // Node B is the busier one (two connections to A's one): /v1/connect hands out A while A lives.
        var carlHub = Own(await HubClient.ConnectAsync(b.HubUrl, carl));
        Own(await HubClient.ConnectAsync(b.HubUrl, carl));
        await carlHub.InvokeAsync("SubscribePresence", (object)new[] { bob.UserId });
        await carlHub.WaitUntilAsync(_ => PresenceOf(carlHub, bob).Count > 0, what: "bob's presence");
        Assert.Equal(["active"], PresenceOf(carlHub, bob));
        var both = string.Join(" ", new[] { $"{a.HubUrl}=1", $"{b.HubUrl}=2" }.Order(StringComparer.Ordinal));
        await Eventually.Until(RegisteredAsync, r => r == both, TimeSpan.FromSeconds(10), "both nodes' heartbeats with their loads");
        Assert.Equal(a.HubUrl, await ConnectUrlAsync(b, carl));

        a.Kill();

        await bobHub.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        // Registration TTL 3 s: node A's registration expires (nobody renews it) and it is never handed out again.
        await Eventually.Until(RegisteredAsync, r => r == $"{b.HubUrl}=2", TimeSpan.FromSeconds(15), "the dead node's registration to expire");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(b.HubUrl, await ConnectUrlAsync(b, carl));
        }
        // Presence TTL 2 s: bob's key expires and node B tells carl.
        await carlHub.WaitUntilAsync(_ => PresenceOf(carlHub, bob).Contains("offline"), TimeSpan.FromSeconds(15), "bob offline");
        Assert.Equal(["active", "offline"], PresenceOf(carlHub, bob));
    }

    /// <summary>The live gateway registrations of this test's prefix, as "url=connections" sorted by url.</summary>
    private async Task<string> RegisteredAsync()
    {
        var redis = (_redis ??= await ConnectionMultiplexer.ConnectAsync(
            Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? "127.0.0.1:56379")).GetDatabase();
        var nodes = await redis.SetMembersAsync($"{_prefix}gateways");
        var values = await redis.StringGetAsync([.. nodes.Select(n => (RedisKey)$"{_prefix}gateway:{n}")]);
        return string.Join(" ", values.Where(v => !v.IsNull)
            .Select(v => JsonDocument.Parse((string)v!).RootElement)
            .Select(r => $"{r.GetProperty("url").GetString()}={r.GetProperty("connections").GetInt32()}")
            .Order(StringComparer.Ordinal));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _redis?.Dispose();
    }

    private async Task<(GatewayProcess A, GatewayProcess B)> TwoGatewaysAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Roles"] = "gateway",
            ["ConnectionStrings:Postgres"] = Db.ConnectionString,
            ["Realtime:Exchange"] = $"chat.events.{PostgresFixture.DatabaseName}",
            ["Redis:Prefix"] = _prefix,
            ["Presence:TtlSeconds"] = "2",
            ["Presence:RefreshBelowSeconds"] = "1.5",
            ["Presence:RefreshIntervalSeconds"] = "0.25",
            ["Gateway:RegistrationTtlSeconds"] = "3",
            ["Gateway:HeartbeatSeconds"] = "0.5",
        };
        var a = GatewayProcess.StartAsync(settings);
        var b = GatewayProcess.StartAsync(settings);
        try
        {
            await Task.WhenAll(a, b);
        }
        finally
        {
            foreach (var started in new[] { a, b }.Where(t => t.IsCompletedSuccessfully))
            {
                Own(started.Result);
            }
        }
        return (a.Result, b.Result);
    }

    /// <summary>What <c>GET /v1/connect</c> answers <paramref name="user"/> on <paramref name="node"/>.</summary>
    private static async Task<string> ConnectUrlAsync(GatewayProcess node, TestUser user)
    {
        using var http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.Client.DefaultRequestHeaders.Authorization!.Parameter);
        using var response = await http.GetAsync(new Uri("/v1/connect", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("url").GetString()!;
    }

    private static List<string> PresenceOf(HubClient hub, TestUser user) =>
        [.. hub.OfType("presence.changed")
            .Where(e => e.GetProperty("data").GetProperty("userId").GetString() == user.UserId)
            .Select(e => e.GetProperty("data").GetProperty("status").GetString()!)];
}
