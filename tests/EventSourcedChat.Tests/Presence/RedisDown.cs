using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Presence;

public sealed class RedisDown(PostgresFixture db) : PresenceTest(db)
{
    [Fact]
    public async Task Without_redis_posting_works_and_presence_answers_unknown_without_errors()
    {
        await using var host = new ChatHost(Db, new()
        {
            ["ConnectionStrings:Redis"] = "127.0.0.1:1",
            ["Redis:Prefix"] = Prefix + "down:",
            ["Gateway:PublicUrl"] = "http://lonely:5080",
        });
        var ada = As(host, await RegisterAsync("ada"));
        var bob = As(host, await RegisterAsync("bob"));
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);
        await UntilDirectoryAsync(); // presence visibility reads workspace membership there

        await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "still here" }, HttpStatusCode.Created);

        await using var adaHub = await MiniHubClient.ConnectAsync(host, ada);
        await adaHub.SubscribePresenceAsync(ada.UserId, bob.UserId);
        Assert.Equal(["unknown"], adaHub.PresenceOf(ada.UserId));
        Assert.Equal(["unknown"], adaHub.PresenceOf(bob.UserId));
        await adaHub.InvokeAsync("SetPresence", "away");
        await UntilMembersAsync(ch, ada);
        await adaHub.InvokeAsync("Typing", ch);
        // The balancer falls back to this node (it has the gateway role).
        var connect = await ada.Ok("GET", "/v1/connect");
        Assert.Equal("http://lonely:5080/v1/gateway", connect.GetProperty("url").GetString());
        await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "and here" }, HttpStatusCode.Created);
        Assert.False(adaHub.Closed);
        Assert.All(adaHub.EventsOfType("presence.changed"), e => Assert.Equal(JsonValueKind.Object, e.GetProperty("data").ValueKind));
    }
}
