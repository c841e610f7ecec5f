using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>
/// A second node (an extra host whose configuration makes ada an instance admin) is asked over HTTP to rebuild a
/// projection whose live runner runs on the shared host, while posts, replies, edits, reactions, read markers and
/// joins keep arriving through the shared host. Once the rebuild has switched over and the load has gone on for a
/// while after it, both hosts serve every acknowledged post exactly once; once the second node is gone, the shared
/// host still does (its own runner never stopped), and the tables equal a build from scratch.
/// </summary>
public sealed class RebuildingFromAnotherNode(PostgresFixture db, ITestOutputHelper output) : ApiTest(db)
{
    [Theory]
    [InlineData("directory")]
    [InlineData("unread")]
    [InlineData("history")]
    [InlineData("search")]
    public async Task A_rebuild_asked_of_another_node_under_load_switches_over_with_nothing_missed_or_doubled_on_any_host(string projection)
    {
        await using var load = await ChatLoad.CreateAsync(Db.DataSource, name => RegisterAsync(name));
        await using var adminHost = new ChatHost(Db, new() { ["Admins"] = load.Ada.UserId });
        var admin = load.Ada.On(adminHost);
        load.Start();
        await load.UntilEveryLaneActedAsync(30);

        await admin.Ok("POST", $"/v1/admin/projections/{projection}/rebuild", null, HttpStatusCode.Accepted);
        var atRequest = load.Actions;
        var rebuild = await Eventually.Until(
            async () => (await admin.Ok("GET", "/v1/admin/projections")).EnumerateArray()
                .Single(p => p.GetProperty("name").GetString() == projection).GetProperty("rebuild"),
            r => r.ValueKind == JsonValueKind.Object && r.GetProperty("state").GetString() != "rebuilding",
            TimeSpan.FromSeconds(60), $"the {projection} rebuild to finish");
        Assert.Equal("switched", rebuild.GetProperty("state").GetString());
        var atSwitch = load.Actions;
        // The live runner goes on applying new events to the swapped-in tables.
        await load.UntilEveryLaneActedAsync(atSwitch + 20);
        await load.StopAsync();
        output.WriteLine($"{projection}: {atRequest} actions per lane before the rebuild request, {atSwitch - atRequest} while it ran, "
                         + $"{load.Actions - atSwitch} after the switch-over; {rebuild.GetProperty("eventsApplied")} events rebuilt; "
                         + $"{load.Lanes.Sum(l => l.Messages.Count)} posts");

        foreach (var host in new[] { Host, adminHost })
        {
            await load.AssertServedOnceAsync(projection, host);
        }
        // The second node leaves: the shared host's live runner must still be running (a rebuild elsewhere never
        // stops it for good; until now the second node's standby runner could have been covering for it).
        await adminHost.DisposeAsync();
        await load.PostLastWordAsync();
        await load.AssertServedOnceAsync(projection, Host);
        await load.AssertEqualsBuildFromScratchAsync(projection);
        await using var leftovers = Db.DataSource.CreateCommand("select count(*) from pg_namespace where nspname = any($1)");
        leftovers.Parameters.AddWithValue(new[] { $"rm_{projection}_rebuild", $"rm_{projection}_old" });
        Assert.Equal(0L, await leftovers.ExecuteScalarAsync());
    }
}
