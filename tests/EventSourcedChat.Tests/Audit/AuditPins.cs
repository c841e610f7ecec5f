using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Audit;

/// <summary>Pins in the audit reads: the export holds the pin events, the chain verifies, the as-of view shows each pin as it stood.</summary>
public sealed class AuditPins(PostgresFixture db) : AuditTest(db)
{
    [Fact]
    public async Task As_of_shows_a_pin_exactly_as_history_and_the_pins_list_showed_it_at_each_instant()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var first = await PostAsync(ada, ch, "first");
        var second = await PostAsync(ada, ch, "second");
        var snapshots = new List<(DateTimeOffset At, string History, long[] Pins)>();

        async Task SnapshotAsync(JsonElement answer)
        {
            var position = answer.GetProperty("position").GetInt64();
            var at = await ScalarAsync<DateTime>("select created_at from es_events where position = $1", position);
            var page = await ada.Ok("GET", $"/v1/channels/{ch}/messages?limit=200&after=0&minPosition={position}");
            var pins = await ada.Ok("GET", $"/v1/channels/{ch}/pins?minPosition={position}");
            snapshots.Add((new DateTimeOffset(at, TimeSpan.Zero), JsonSerializer.Serialize(page.GetProperty("messages").EnumerateArray()),
                [.. pins.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64())]));
        }

        await SnapshotAsync(await ada.Ok("PUT", $"/v1/channels/{ch}/messages/{first}/pin"));
        await SnapshotAsync(await ada.Ok("PUT", $"/v1/channels/{ch}/messages/{second}/pin"));
        await SnapshotAsync(await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{first}/pin"));
        await SnapshotAsync(await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{second}"));

        Assert.Equal(new long[][] { [first], [second, first], [second], [] }, snapshots.Select(s => s.Pins));
        foreach (var (at, history, pins) in snapshots)
        {
            var asOf = await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at={Uri.EscapeDataString(at.ToString("O"))}");
            Assert.Equal(history, JsonSerializer.Serialize(asOf.GetProperty("messages").EnumerateArray()));
            Assert.Equal(pins.Order(), asOf.GetProperty("messages").EnumerateArray()
                .Where(m => m.GetProperty("pinned").GetBoolean()).Select(m => m.GetProperty("seq").GetInt64()));
        }

        var events = await ExportAsync(ada, ch);
        Assert.Equal(["message.pinned.v1", "message.pinned.v1", "message.unpinned.v1"],
            events.Select(e => e.GetProperty("type").GetString()).Where(t => t!.Contains("pin", StringComparison.Ordinal)));
        var verify = await ada.Ok("GET", $"/v1/audit/channels/{ch}/verify");
        Assert.True(verify.GetProperty("ok").GetBoolean());
        Assert.Equal(events.Count, verify.GetProperty("events").GetInt64());
    }
}
