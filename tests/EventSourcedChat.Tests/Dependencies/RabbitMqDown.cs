using System.Net;
using System.Text.Json;
using EventSourcedChat.EventStore.Telemetry;
using EventSourcedChat.Projections.Push;
using EventSourcedChat.Tests.Infrastructure;
using EventSourcedChat.Tests.Realtime;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Dependencies;

/// <summary>
/// RabbitMQ taken away (SIGKILL of a private throwaway broker, then started again on the same port) or frozen (SIGSTOP,
/// then SIGCONT) under an API + projector host and a separate gateway host, both on a database of their own.
/// </summary>
public sealed class RabbitMqDown(PostgresFixture db, ITestOutputHelper output) : RealtimeTest(db)
{
    [Fact]
    public async Task While_RabbitMQ_is_down_posts_succeed_and_a_gateway_client_gets_them_when_it_returns()
    {
        var outage = new Outage(output);
        var (rabbit, api, gateway, ada, general, hub) = await ListeningAsync("rabbitdown");

        outage.Log("killing RabbitMQ");
        rabbit.Kill();
        var anonymous = api.CreateClient();
        for (var i = 0; i < 20; i++)
        {
            var response = await outage.TimeAsync("POST /v1/channels/{ch}/messages",
                () => ada.SendAsync("POST", $"/v1/channels/{general}/messages", new { text = $"down {i}" }));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        foreach (var (name, host) in new[] { ("api,projector", api), ("gateway", gateway) })
        {
            var ready = await outage.TimeAsync($"GET /health/ready ({name})", () => host.CreateClient().GetAsync(new Uri("/health/ready", UriKind.Relative)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var health = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("dependencies");
            Assert.Equal("unhealthy", health.GetProperty("rabbitmq").GetProperty("status").GetString());
            Assert.Equal("healthy", health.GetProperty("postgres").GetProperty("status").GetString());
        }
        await outage.TimeAsync("GET /v1/channels/{ch}/messages", () => ada.SendAsync("GET", $"/v1/channels/{general}/messages"));
        outage.Table();

        outage.Log("starting RabbitMQ again");
        await rabbit.StartAsync();
        outage.Log("RabbitMQ answers");
        var back = System.Diagnostics.Stopwatch.StartNew();
        var expected = Enumerable.Range(0, 20).Select(i => $"down {i}").Prepend("before").ToList();
        var events = await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "down 19"), TimeSpan.FromSeconds(60),
            "the posts of the outage on the open hub connection");
        outage.Log($"the open hub connection got the outage's 20 posts {back.ElapsedMilliseconds} ms after RabbitMQ answered");
        Assert.Equal(expected, Posted(events, general).Select(TextOf));
        AssertNoDuplicates(events);

        await PostAsync(ada, general, "after");
        events = await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "after"), TimeSpan.FromSeconds(30), "a live post after the outage");
        Assert.Equal(expected.Append("after"), Posted(events, general).Select(TextOf));
        AssertNoDuplicates(events);
        await Eventually.Until(
            async () => (await anonymous.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode,
            status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "readiness");
        outage.Log($"ready again {back.ElapsedMilliseconds} ms after");
    }

    [Fact]
    public async Task A_broker_that_stops_confirming_does_not_hold_the_push_worker_and_the_batch_is_sent_when_it_answers_again()
    {
        var outage = new Outage(output);
        var (rabbit, api, _, ada, general, hub) = await ListeningAsync("rabbitfrozen", ("Realtime:PushConfirmTimeout", "00:00:01"));
        var worker = api.Services.GetRequiredService<PushWorker>();
        var interruptions = worker.Interruptions;
        using var metrics = new MetricsRecorder(api);
        var (timeouts, restarts) = (metrics.Sum(ChatMetrics.PushConfirmTimeouts), metrics.Sum(ChatMetrics.PushRestarts));

        // SIGSTOP: the connection stays open, sends go out, no confirm comes back (as when a confirm is lost).
        outage.Log("freezing RabbitMQ");
        rabbit.Freeze();
        for (var i = 0; i < 5; i++)
        {
            await PostAsync(ada, general, $"frozen {i}");
        }
        await Eventually.Until(() => worker.Interruptions > interruptions, TimeSpan.FromSeconds(20),
            "the push worker to give up a batch the frozen broker never confirmed");
        outage.Log($"push worker gave up: {worker.LastInterruption?.GetType().Name}: {worker.LastInterruption?.Message}");
        Assert.IsType<TimeoutException>(worker.LastInterruption);
        Assert.True(metrics.Sum(ChatMetrics.PushConfirmTimeouts) > timeouts, "the batch not confirmed in time is counted");
        Assert.True(metrics.Sum(ChatMetrics.PushRestarts) > restarts, "the worker's run started again is counted");

        rabbit.Unfreeze();
        outage.Log("RabbitMQ thawed");
        var expected = Enumerable.Range(0, 5).Select(i => $"frozen {i}").Prepend("before").ToList();
        var events = await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "frozen 4"), TimeSpan.FromSeconds(60),
            "the posts made while the broker was frozen");
        await PostAsync(ada, general, "after");
        events = await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "after"), TimeSpan.FromSeconds(30), "a live post after the thaw");
        Assert.Equal(expected.Append("after"), Posted(events, general).Select(TextOf));
        AssertNoDuplicates(events);
        outage.Log($"every post delivered once and in order; the worker was interrupted {worker.Interruptions - interruptions} times");
    }

    /// <summary>
    /// A private broker, an api + projector host and a gateway host on a database named after <paramref name="name"/>,
    /// and bob's hub connection on the gateway, resumed, having received ada's post "before" in their channel.
    /// </summary>
    private async Task<(PrivateRabbitMq Rabbit, ChatHost Api, ChatHost Gateway, TestUser Ada, string General, HubClient Hub)> ListeningAsync(
        string name, params (string Key, string Value)[] extra)
    {
        var rabbit = Own(await PrivateRabbitMq.CreateAsync());
        var database = $"{PostgresFixture.DatabaseName}_{name}";
        await PostgresFixture.CreateDatabaseAsync(database, dropFirst: true);
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = PostgresFixture.WithDatabase(database),
            ["ConnectionStrings:RabbitMq"] = rabbit.ConnectionString,
            ["Redis:Prefix"] = $"esc_tests_{name}:{Guid.NewGuid():N}:",
            ["RateLimits:PostsPerSecond"] = "1000",
            ["RateLimits:PostsBurst"] = "1000",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        var api = ExtraHost("api,projector", settings);
        var gateway = ExtraHost("gateway", settings);
        var ada = await RegisterAsync("ada", api);
        var bob = await RegisterAsync("bob", api);
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws);
        await JoinAsync(bob, general);
        var (_, start) = await PostAsync(ada, general, "before");
        var hub = await ConnectAsync(bob, gateway);
        await hub.InvokeAsync("Resume", start - 1);
        await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "before"), TimeSpan.FromSeconds(30), "the post before the broker trouble");
        return (rabbit, api, gateway, ada, general, hub);
    }
}
