using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>Pins reach the channel's hub clients like reactions do: in seq order, shaped as the history API shows a message's pin.</summary>
public sealed class PinPushes(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task Pins_and_unpins_reach_a_connected_member_in_order_with_the_pin_fields_and_never_an_outsider()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada, bob, eve);
        var general = await ChannelAsync(ada, ws, "general");
        var random = await ChannelAsync(ada, ws, "random");
        await JoinAsync(bob, general);
        await JoinAsync(eve, random);
        await DirectoryAsync(general, [ada, bob], [eve]);
        await DirectoryAsync(random, [ada, eve]);
        var bobHub = await ConnectAsync(bob);
        var eveHub = await ConnectAsync(eve);

        var (seq, _) = await PostAsync(ada, general, "the plan");
        var pinned = (await ada.Ok("PUT", $"/v1/channels/{general}/messages/{seq}/pin")).GetProperty("position").GetInt64();
        await bob.Ok("PUT", $"/v1/channels/{general}/messages/{seq}/reactions/eyes");
        var unpinned = (await bob.Ok("DELETE", $"/v1/channels/{general}/messages/{seq}/pin")).GetProperty("position").GetInt64();
        await PostAsync(ada, random, "sentinel");

        var events = await bobHub.WaitUntilAsync(e => e.Any(x => Type(x) == "message.unpinned"), what: "the unpin");
        var inGeneral = events.Where(e => e.GetProperty("channelId").GetString() == general
            && e.TryGetProperty("seq", out var s) && s.ValueKind == JsonValueKind.Number && s.GetInt64() >= seq).ToList();
        Assert.Equal(["message.posted", "message.pinned", "reaction.added", "message.unpinned"], inGeneral.Select(Type));
        Assert.Equal(inGeneral.Select(SeqOf).Order(), inGeneral.Select(SeqOf));
        AssertNoDuplicates(events);

        var pin = inGeneral.Single(e => Type(e) == "message.pinned");
        Assert.Equal(pinned, PositionOf(pin));
        var data = pin.GetProperty("data");
        Assert.Equal(seq, data.GetProperty("seq").GetInt64());
        Assert.True(data.GetProperty("pinned").GetBoolean());
        Assert.Equal(ada.UserId, data.GetProperty("pinnedBy").GetString());
        Assert.Equal(pin.GetProperty("at").GetDateTimeOffset(), data.GetProperty("pinnedAt").GetDateTimeOffset());
        var unpin = inGeneral.Single(e => Type(e) == "message.unpinned");
        Assert.Equal(unpinned, PositionOf(unpin));
        Assert.False(unpin.GetProperty("data").GetProperty("pinned").GetBoolean());
        Assert.Equal(bob.UserId, unpin.GetProperty("data").GetProperty("by").GetString());
        var posted = inGeneral.Single(e => Type(e) == "message.posted");
        Assert.False(posted.GetProperty("data").GetProperty("pinned").GetBoolean());

        // Delivery is in log order: once eve has the later sentinel she would already have had any pin of general.
        var seen = await eveHub.WaitUntilAsync(e => Posted(e, random).Count >= 1, what: "the sentinel");
        Assert.DoesNotContain(seen, e => e.GetProperty("channelId").GetString() == general);
    }

    private static string Type(JsonElement e) => e.GetProperty("type").GetString()!;
}
