using EventSourcedChat.Gateway.Realtime;
using EventSourcedChat.Projections.Push;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Realtime;

public sealed class Routing(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task A_gateway_node_binds_a_channel_while_it_has_a_local_member_and_unbinds_after_the_last_leaves()
    {
        var gateway = ExtraHost("gateway");
        var registry = gateway.Services.GetRequiredService<ConnectionRegistry>();
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        var other = await ChannelAsync(ada, ws, "other");
        await JoinAsync(bob, general);
        await JoinAsync(bob, other);
        await DirectoryAsync(general, [ada, bob]);
        await DirectoryAsync(other, [ada, bob]);

        var phone = await ConnectAsync(bob, gateway);
        var laptop = await ConnectAsync(bob, gateway);
        // The handshake completes before OnConnectedAsync runs: the bindings follow shortly.
        await Eventually.Until(() => registry.BoundChannelCount == 2, what: "both channels to be bound");

        await bob.Ok("POST", $"/v1/channels/{general}/leave");
        await phone.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "member.left"), what: "member.left");
        await Eventually.Until(() => registry.BoundChannelCount == 1, what: "the binding of the left channel to go");

        await phone.DisposeAsync();
        await laptop.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "member.left"), what: "member.left");
        Assert.Equal(1, registry.BoundChannelCount);
        await laptop.DisposeAsync();
        await Eventually.Until(() => registry.BoundChannelCount == 0, what: "every binding to go with the last connection");
    }

    [Fact]
    public async Task A_read_marker_moved_on_one_device_reaches_the_users_other_devices_only()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        await JoinAsync(bob, general);
        await DirectoryAsync(general, [ada, bob]);
        var adaHub = await ConnectAsync(ada);
        var bobHub = await ConnectAsync(bob);
        var (seq, _) = await PostAsync(ada, general, "hello");

        await bob.Ok("POST", $"/v1/channels/{general}/read", new { seq });
        await PostAsync(ada, general, "sentinel");

        var marker = (await bobHub.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "read.marker"), what: "read.marker"))
            .Single(x => x.GetProperty("type").GetString() == "read.marker");
        Assert.Equal(general, marker.GetProperty("data").GetProperty("channelId").GetString());
        Assert.Equal(seq, marker.GetProperty("data").GetProperty("seq").GetInt64());
        var adaSeen = await adaHub.WaitUntilAsync(e => Posted(e, general).Count >= 2, what: "the sentinel");
        Assert.DoesNotContain(adaSeen, x => x.GetProperty("type").GetString() == "read.marker");
    }

    [Fact]
    public async Task One_push_worker_runs_while_others_stand_by()
    {
        var a = ExtraHost("projector");
        var b = ExtraHost("projector");
        var workers = new[] { Host, a, b }.Select(h => h.Services.GetRequiredService<PushWorker>()).ToList();
        await Eventually.Until(() => workers.Count(w => w.Active) == 1, what: "exactly one active push worker");
        Assert.Equal(1, workers.Count(w => w.Active));
    }
}
