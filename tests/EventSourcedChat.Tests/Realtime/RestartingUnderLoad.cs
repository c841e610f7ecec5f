using System.Diagnostics;
using System.Net;
using EventSourcedChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>
/// <c>POST /v1/admin/projections/{name}/restart</c> asked of a second node: the node that holds the lease (here the
/// shared host) restarts that worker or projection from its checkpoint within a couple of seconds, while posts,
/// replies, edits, reactions, read markers and joins keep arriving. Hub clients on both nodes get every post exactly
/// once and in order; a restarted read model serves every post once and equals a build from scratch.
/// </summary>
public sealed class RestartingUnderLoad(PostgresFixture db, ITestOutputHelper output) : RealtimeTest(db)
{
    /// <summary>The contract: the owner restarts within a couple of seconds; the load goes on at least this long after the 202.</summary>
    private static readonly TimeSpan RestartWindow = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData("push")]
    [InlineData("unread")]
    public async Task A_restart_asked_of_another_node_under_load_delivers_and_projects_every_post_once_in_order(string name)
    {
        await using var load = await ChatLoad.CreateAsync(Db.DataSource, user => RegisterAsync(user));
        var adminHost = ExtraHost("all", new() { ["Admins"] = load.Ada.UserId });
        var admin = load.Ada.On(adminHost);
        foreach (var lane in load.Lanes)
        {
            await DirectoryAsync(lane.ChannelId, [load.Ada, load.Bob]);
        }
        HubClient[] hubs = [await ConnectAsync(load.Bob), await ConnectAsync(load.Bob, adminHost)];
        load.Start();
        await load.UntilEveryLaneActedAsync(30);

        await admin.Ok("POST", $"/v1/admin/projections/{name}/restart", null, HttpStatusCode.Accepted);
        var sinceRequest = Stopwatch.StartNew();
        var atRequest = load.Actions;
        await Eventually.Until(
            () => Task.FromResult(sinceRequest.Elapsed >= RestartWindow && load.Actions >= atRequest + 20), ok => ok,
            TimeSpan.FromSeconds(60), $"the load to go on through the restart window of {name}");
        await load.StopAsync();
        output.WriteLine($"{name}: {atRequest} actions per lane before the restart request, {load.Actions - atRequest} after it; "
                         + $"{load.Lanes.Sum(l => l.Messages.Count)} posts");

        await load.AssertDeliveredOnceInOrderAsync(hubs);
        if (name != "push")
        {
            foreach (var host in new[] { Host, adminHost })
            {
                await load.AssertServedOnceAsync(name, host);
            }
            await load.AssertEqualsBuildFromScratchAsync(name);
        }
    }

    [Fact]
    public async Task Only_instance_admins_restart_and_only_what_exists()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var adminHost = ExtraHost("all", new() { ["Admins"] = ada.UserId });

        await bob.On(adminHost).Problem("POST", "/v1/admin/projections/push/restart", null, HttpStatusCode.Forbidden, "forbidden");
        await ada.On(adminHost).Problem("POST", "/v1/admin/projections/nothing/restart", null, HttpStatusCode.NotFound, "not_found");
    }
}
