using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using EventSourcedChat.Tests.Realtime;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Dependencies;

/// <summary>
/// Redis taken away (SIGKILL of a private throwaway instance) under a gateway host with live hub connections, then
/// started again, empty, on the same port.
/// </summary>
public sealed class RedisDown(PostgresFixture db, ITestOutputHelper output) : RealtimeTest(db)
{
    [Fact]
    public async Task While_Redis_is_down_messaging_works_and_presence_reads_unknown_until_it_returns()
    {
        var outage = new Outage(output);
        var redis = Own(await PrivateRedis.CreateAsync());
        var gateway = ExtraHost("api,gateway", new()
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Redis:Prefix"] = $"esc_tests_redisdown:{Guid.NewGuid():N}:",
            ["Gateway:PublicUrl"] = "http://redis-down:5080",
        });
        var ada = await RegisterAsync("ada", gateway);
        var bob = await RegisterAsync("bob", gateway);
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws);
        await JoinAsync(bob, general);
        var (_, start) = await PostAsync(ada, general, "before");
        var bobHub = await ConnectAsync(bob, gateway);
        await bobHub.InvokeAsync("Resume", start - 1);
        var adaHub = await ConnectAsync(ada, gateway);
        await UntilDirectoryAsync(); // presence visibility reads workspace membership there
        await adaHub.InvokeAsync("SubscribePresence", [new[] { bob.UserId }]);
        await adaHub.WaitUntilAsync(e => PresenceOf(e, bob.UserId).LastOrDefault() == "active", TimeSpan.FromSeconds(15), "bob active");
        // REST reads presence from Redis too: bob is active there before the outage, so "unknown" below is the outage's.
        Assert.Equal("active", (await ada.Ok("GET", $"/v1/users/{bob.UserId}")).GetProperty("presence").GetString());

        outage.Log("killing Redis");
        redis.Kill();
        // Messaging goes on: the post is stored and pushed to the open connection.
        var posted = await outage.TimeAsync("POST /v1/channels/{ch}/messages",
            () => ada.SendAsync("POST", $"/v1/channels/{general}/messages", new { text = "redis is down" }));
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        await bobHub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "redis is down"), TimeSpan.FromSeconds(15), "the post while Redis is down");
        // Presence reads unknown, without errors: on a new connection, over REST.
        var carol = await RegisterAsync("carol", gateway);
        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = carol.UserId });
        await UntilDirectoryAsync();
        var carolHub = await ConnectAsync(carol, gateway);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await carolHub.InvokeAsync("SubscribePresence", [new[] { bob.UserId }]);
        outage.Log($"SubscribePresence answered in {watch.ElapsedMilliseconds} ms");
        var unknown = await carolHub.WaitUntilAsync(e => PresenceOf(e, bob.UserId).Count > 0, TimeSpan.FromSeconds(15), "bob's presence");
        Assert.Equal(["unknown"], PresenceOf(unknown, bob.UserId));
        var members = await outage.TimeAsync("GET /v1/channels/{ch}/members", () => ada.SendAsync("GET", $"/v1/channels/{general}/members"));
        Assert.Equal(HttpStatusCode.OK, members.StatusCode);
        Assert.All(JsonDocument.Parse(await members.Content.ReadAsStringAsync()).RootElement.EnumerateArray(),
            m => Assert.Equal("unknown", m.GetProperty("presence").GetString()));
        var user = await outage.TimeAsync("GET /v1/users/{id}", () => ada.SendAsync("GET", $"/v1/users/{bob.UserId}"));
        Assert.Equal(HttpStatusCode.OK, user.StatusCode);
        Assert.Equal("unknown", JsonDocument.Parse(await user.Content.ReadAsStringAsync()).RootElement.GetProperty("presence").GetString());
        await adaHub.InvokeAsync("SetPresence", "away");
        await adaHub.InvokeAsync("Typing", general);
        var ready = await outage.TimeAsync("GET /health/ready", () => gateway.CreateClient().GetAsync(new Uri("/health/ready", UriKind.Relative)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var health = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("dependencies");
        Assert.Equal("unhealthy", health.GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("healthy", health.GetProperty("postgres").GetProperty("status").GetString());
        Assert.Equal("healthy", health.GetProperty("rabbitmq").GetProperty("status").GetString());
        outage.Table();
        Assert.Null(bobHub.Closed.IsCompleted ? "bob's connection closed" : null);

        outage.Log("starting Redis again (empty)");
        await redis.StartAsync();
        var back = System.Diagnostics.Stopwatch.StartNew();
        // The node re-connects and writes its users' presence again: a new subscription sees bob active.
        await Eventually.Until(async () =>
        {
            await using var probe = await HubClient.ConnectAsync(gateway, carol);
            await probe.InvokeAsync("SubscribePresence", [new[] { bob.UserId }]);
            var events = await probe.WaitUntilAsync(e => PresenceOf(e, bob.UserId).Count > 0, TimeSpan.FromSeconds(10), "bob's presence");
            return PresenceOf(events, bob.UserId)[0];
        }, status => status == "active", TimeSpan.FromSeconds(30), "bob's presence to read active again");
        outage.Log($"presence reads active again {back.ElapsedMilliseconds} ms after Redis started");
        Assert.Equal("active", (await ada.Ok("GET", $"/v1/users/{bob.UserId}")).GetProperty("presence").GetString());
        await Eventually.Until(
            async () => (await gateway.CreateClient().GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode,
            status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "readiness");
        outage.Log($"ready again {back.ElapsedMilliseconds} ms after");
    }

    private static List<string> PresenceOf(IEnumerable<JsonElement> events, string userId) =>
        [.. events.Where(e => e.GetProperty("type").GetString() == "presence.changed"
                && e.GetProperty("data").GetProperty("userId").GetString() == userId)
            .Select(e => e.GetProperty("data").GetProperty("status").GetString()!)];
}
