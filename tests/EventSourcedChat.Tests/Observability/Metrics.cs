using EventSourcedChat.EventStore.Telemetry;
using EventSourcedChat.Tests.Infrastructure;
using EventSourcedChat.Tests.Realtime;

namespace EventSourcedChat.Tests.Observability;

/// <summary>Each of the service's own instruments (docs/observability.md) moves when its cause happens, on the host where it happens.</summary>
public sealed class Metrics(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task A_post_records_its_append_its_push_and_its_live_delivery_with_the_time_since_the_append()
    {
        using var metrics = new MetricsRecorder(Host);
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var channel = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        await bob.Ok("POST", $"/v1/channels/{channel}/join");
        var bobHub = await ConnectAsync(bob);
        await bobHub.InvokeAsync("Resume", 0);
        var appendsBefore = metrics.Count(ChatMetrics.AppendDuration);
        var liveBefore = metrics.Sum(ChatMetrics.Deliveries, ChatMetrics.DeliveryKindTag, "live");

        await ada.Ok("POST", $"/v1/channels/{channel}/messages", new { text = "hello" }, System.Net.HttpStatusCode.Created);
        await bobHub.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "message.posted"), what: "the post");

        Assert.True(metrics.Count(ChatMetrics.AppendDuration) > appendsBefore, "append duration recorded");
        Assert.Contains(metrics.Of(ChatMetrics.AppendEvents), m => m.Value == 1);
        Assert.All(metrics.Of(ChatMetrics.AppendDuration), m => Assert.InRange(m.Value, 0, 30));
        await Eventually.Until(() => metrics.Sum(ChatMetrics.Deliveries, ChatMetrics.DeliveryKindTag, "live") > liveBefore, what: "a live delivery counted");
        var latency = metrics.Of(ChatMetrics.DeliveryLatency);
        Assert.NotEmpty(latency);
        Assert.All(latency, m => Assert.InRange(m.Value, 0, 30));
        await Eventually.Until(() => metrics.Sum(ChatMetrics.PushSent) >= 1, what: "the push worker's sends counted");
    }

    [Fact]
    public async Task Connections_bindings_resumes_replays_and_resync_required_are_counted_by_the_gateway()
    {
        using var metrics = new MetricsRecorder(Host);
        var ada = await RegisterAsync("ada");
        var channel = await ChannelAsync(ada, await WorkspaceAsync(ada));
        await ada.Ok("POST", $"/v1/channels/{channel}/messages", new { text = "before" }, System.Net.HttpStatusCode.Created);
        var connections = metrics.Latest(ChatMetrics.Connections) ?? 0;

        var hub = await ConnectAsync(ada);
        Assert.Equal(connections + 1, metrics.Latest(ChatMetrics.Connections));
        Assert.True(metrics.Latest(ChatMetrics.Bindings) >= 1, "the channel is bound");
        var resumes = metrics.Sum(ChatMetrics.Resumes);
        var replayed = metrics.Sum(ChatMetrics.Deliveries, ChatMetrics.DeliveryKindTag, "replayed");

        await hub.InvokeAsync("Resume", 0);
        Assert.Equal(resumes + 1, metrics.Sum(ChatMetrics.Resumes));
        Assert.True(metrics.Sum(ChatMetrics.Deliveries, ChatMetrics.DeliveryKindTag, "replayed") > replayed, "the replay counted as deliveries");

        var resyncs = metrics.Sum(ChatMetrics.ResyncRequired);
        await hub.InvokeAsync("Resume", long.MaxValue / 2); // a position the log never had
        await hub.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "resync.required"), what: "resync.required");
        Assert.Equal(resyncs + 1, metrics.Sum(ChatMetrics.ResyncRequired));

        await hub.DisposeAsync();
        await Eventually.Until(() => metrics.Latest(ChatMetrics.Connections) == connections, what: "the connection gone from the gauge");
    }

    [Fact]
    public async Task Typing_notices_and_presence_changes_are_counted()
    {
        using var metrics = new MetricsRecorder(Host);
        var ada = await RegisterAsync("ada");
        var channel = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var typing = metrics.Sum(ChatMetrics.TypingNotices);
        var presence = metrics.Sum(ChatMetrics.PresenceChanges);

        // Typing checks membership in the directory read model: wait until it has the channel.
        await Eventually.Until(async () => (await ada.SendAsync("GET", $"/v1/channels/{channel}/members")).StatusCode,
            s => s == System.Net.HttpStatusCode.OK, what: "the channel in the directory");
        var hub = await ConnectAsync(ada); // ada goes active
        await hub.InvokeAsync("Typing", channel);

        Assert.Equal(typing + 1, metrics.Sum(ChatMetrics.TypingNotices));
        await Eventually.Until(() => metrics.Sum(ChatMetrics.PresenceChanges) > presence, what: "ada's presence change counted");
    }

    [Fact]
    public async Task Every_runner_reports_its_lag_in_events_and_seconds()
    {
        using var metrics = new MetricsRecorder(Host);
        var ada = await RegisterAsync("ada");
        await ChannelAsync(ada, await WorkspaceAsync(ada));

        foreach (var runner in new[] { "history", "directory", "unread", "search", "push", "notify" })
        {
            await Eventually.Until(() => metrics.Latest(ChatMetrics.RunnerLagEvents, ChatMetrics.RunnerTag, runner) is >= 0, TimeSpan.FromSeconds(15), $"{runner}'s lag in events");
            Assert.True(metrics.Latest(ChatMetrics.RunnerLagSeconds, ChatMetrics.RunnerTag, runner) >= 0, $"{runner}'s lag in seconds");
        }
    }

    [Fact]
    public async Task Requests_by_route_and_status_and_rate_limit_rejections_are_counted_by_ASP_NET_Cores_instruments()
    {
        await using var strict = new ChatHost(Db, new() { ["Roles"] = "api", ["RateLimits:PostsPerSecond"] = "1", ["RateLimits:PostsBurst"] = "2" });
        using var metrics = new MetricsRecorder(strict, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.RateLimiting");
        var ada = await RegisterAsync("ada", strict);
        var channel = await ChannelAsync(ada, await WorkspaceAsync(ada));

        var statuses = new List<System.Net.HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await ada.SendAsync("POST", $"/v1/channels/{channel}/messages", new { text = $"m{i}" })).StatusCode);
        }

        var rejected = statuses.Count(s => s == System.Net.HttpStatusCode.TooManyRequests);
        Assert.True(rejected >= 1, "the burst is spent");
        Assert.Equal(rejected, metrics.Sum("aspnetcore.rate_limiting.requests", "aspnetcore.rate_limiting.result", "endpoint_limiter"));
        // A request's duration is recorded as its response ends, which the client may see first.
        int Posts(int status) => metrics.Of("http.server.request.duration", "http.route", "/v1/channels/{channelId}/messages")
            .Count(m => Equals(m.Tags.GetValueOrDefault("http.response.status_code"), status));
        await Eventually.Until(() => Posts(429) + Posts(201) == statuses.Count, what: "every post's duration recorded");
        Assert.Equal(rejected, Posts(429));
        Assert.Equal(statuses.Count - rejected, Posts(201));
    }
}
