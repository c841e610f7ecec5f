using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using EventSourcedChat.Tests.Realtime;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Dependencies;

/// <summary>
/// PostgreSQL taken away under a running host (API, projector with the push worker, gateway) and given back: a private
/// throwaway cluster (<see cref="PrivatePostgres"/>), SIGKILLed and started again on the same port.
/// </summary>
public sealed class PostgresDown(PostgresFixture db, ITestOutputHelper output) : RealtimeTest(db)
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task While_PostgreSQL_is_down_requests_answer_503_quickly_and_the_same_host_serves_again_when_it_returns()
    {
        var outage = new Outage(output);
        var pg = Own(await PrivatePostgres.CreateAsync());
        outage.Log($"private PostgreSQL on {pg.Port}");
        var host = ExtraHost("api,gateway,projector", new()
        {
            ["ConnectionStrings:Postgres"] = pg.ConnectionString,
            ["Realtime:Exchange"] = $"chat.events.{PostgresFixture.DatabaseName}.pgdown",
            ["Redis:Prefix"] = $"esc_tests_pgdown:{Guid.NewGuid():N}:",
        });
        var ada = await RegisterAsync("ada", host);
        var bob = await RegisterAsync("bob", host);
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws);
        await JoinAsync(bob, general);
        var (_, start) = await PostAsync(ada, general, "before");
        var hub = await ConnectAsync(bob, host);
        await hub.InvokeAsync("Resume", start - 1);
        await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "before"), what: "the post before the outage");
        await HistoryAsync(ada, general, ["before"]);
        var anonymous = host.CreateClient();

        outage.Log("killing PostgreSQL");
        pg.Kill();
        for (var round = 0; round < 5; round++)
        {
            await outage.UnavailableAsync("POST /v1/channels/{ch}/messages",
                () => ada.SendAsync("POST", $"/v1/channels/{general}/messages", new { text = $"down {round}" }), Quick);
            await outage.UnavailableAsync("GET /v1/channels/{ch}/messages",
                () => ada.SendAsync("GET", $"/v1/channels/{general}/messages"), Quick);
            await outage.UnavailableAsync("GET /v1/workspaces/{ws}/channels",
                () => ada.SendAsync("GET", $"/v1/workspaces/{ws}/channels"), Quick);
            await outage.UnavailableAsync("POST /v1/auth/login",
                () => anonymous.PostAsJsonAsync("/v1/auth/login", new { email = ada.Email, password = "correct horse battery" }), Quick);
            await outage.UnavailableAsync("POST /v1/auth/register", () => anonymous.PostAsJsonAsync("/v1/auth/register",
                new { email = $"eve-{Guid.NewGuid():N}@example.test", password = "correct horse battery", displayName = "eve" }), Quick);
            var ready = await outage.TimeAsync("GET /health/ready", () => anonymous.GetAsync(new Uri("/health/ready", UriKind.Relative)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var health = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("dependencies");
            Assert.Equal("unhealthy", health.GetProperty("postgres").GetProperty("status").GetString());
            Assert.Equal("healthy", health.GetProperty("redis").GetProperty("status").GetString());
        }
        outage.Log("while down:");
        var table = outage.Table();
        Assert.DoesNotContain("| 500", table, StringComparison.Ordinal);

        outage.Log("starting PostgreSQL again");
        await pg.StartAsync();
        outage.Log("PostgreSQL accepts connections");
        var back = System.Diagnostics.Stopwatch.StartNew();
        // The same host, not restarted: the first requests after the restart may still meet a broken pooled connection
        // or the open breaker (503), then posts go through.
        await Eventually.Until(
            async () => (await ada.SendAsync("POST", $"/v1/channels/{general}/messages", new { text = "after", clientMsgId = AfterId })).StatusCode,
            status => status is HttpStatusCode.Created or HttpStatusCode.OK, TimeSpan.FromSeconds(30), "a post to go through again");
        outage.Log($"posting works again {back.ElapsedMilliseconds} ms after PostgreSQL accepted connections");
        // The projection runner resumed by itself: history shows the new post, and nothing posted while down.
        await HistoryAsync(ada, general, ["before", "after"]);
        outage.Log($"history shows it {back.ElapsedMilliseconds} ms after");
        // The push worker and the gateway resumed: the open hub connection gets it, without reconnecting.
        var events = await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "after"), TimeSpan.FromSeconds(30),
            "the post after the outage on the open hub connection");
        outage.Log($"the hub connection got it {back.ElapsedMilliseconds} ms after");
        Assert.Equal(["before", "after"], Posted(events, general).Select(TextOf));
        await Eventually.Until(
            async () => (await anonymous.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode,
            status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "readiness");
        outage.Log($"ready again {back.ElapsedMilliseconds} ms after");
        await ada.Ok("GET", $"/v1/workspaces/{ws}/channels");
        var login = await anonymous.PostAsJsonAsync("/v1/auth/login", new { email = ada.Email, password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    private static readonly Guid AfterId = Guid.NewGuid();

    private static async Task HistoryAsync(TestUser user, string channelId, string[] texts) =>
        await Eventually.Until(async () =>
        {
            var response = await user.SendAsync("GET", $"/v1/channels/{channelId}/messages?after=0");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return [];
            }
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()!).ToArray();
        }, seen => seen.SequenceEqual(texts), TimeSpan.FromSeconds(30), $"history to show {string.Join(", ", texts)}");
}
