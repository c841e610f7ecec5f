using EventSourcedChat.Gateway.Realtime;
using Microsoft.Extensions.DependencyInjection;
using EventSourcedChat.Projections.Directory;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Realtime;

public sealed class Delivery(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task A_post_reaches_every_connection_of_members_in_seq_order_and_never_non_members()
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
        var bob1 = await ConnectAsync(bob);
        var bob2 = await ConnectAsync(bob);
        var eve1 = await ConnectAsync(eve);

        for (var i = 0; i < 5; i++)
        {
            await PostAsync(ada, general, $"hello {i}");
        }
        await PostAsync(ada, random, "sentinel");

        foreach (var connection in new[] { bob1, bob2 })
        {
            var events = await connection.WaitUntilAsync(e => Posted(e, general).Count >= 5, what: "five posts");
            var posts = Posted(events, general);
            Assert.Equal(["hello 0", "hello 1", "hello 2", "hello 3", "hello 4"], posts.Select(TextOf));
            Assert.Equal(posts.Select(SeqOf).Order(), posts.Select(SeqOf));
            var first = posts[0];
            Assert.Equal(general, first.GetProperty("data").GetProperty("channelId").GetString());
            Assert.Equal(ada.UserId, first.GetProperty("data").GetProperty("userId").GetString());
            Assert.True(first.GetProperty("data").TryGetProperty("threadRootSeq", out _));
            AssertNoDuplicates(events);
        }
        // Delivery is in log order, so once eve has the later sentinel she would already have any general post.
        var seen = await eve1.WaitUntilAsync(e => Posted(e, random).Count >= 1, what: "the sentinel");
        Assert.Empty(Posted(seen, general));
        Assert.DoesNotContain(seen, e => e.GetProperty("channelId").GetString() == general);
    }

    [Fact]
    public async Task A_user_who_connects_right_after_joining_gets_the_channel_even_while_the_directory_lags()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        await DirectoryAsync(general, [ada]);
        var adaHub = await ConnectAsync(ada);
        await adaHub.BarrierAsync();
        // The directory projection applies nothing while its switch lock is held elsewhere.
        await using var holder = await Db.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockSwitch = new NpgsqlCommand("select pg_advisory_xact_lock($1)", holder, hold))
        {
            lockSwitch.Parameters.AddWithValue(ProjectionSchemas.SwitchKey(new DirectoryProjection()));
            await lockSwitch.ExecuteNonQueryAsync();
        }
        await JoinAsync(bob, general);
        // bob's member.joined has gone through the gateway before bob connects: only the directory can tell his new
        // connection about the channel.
        await adaHub.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "member.joined"), what: "bob's member.joined");

        await using var now = Db.DataSource.CreateCommand("select clock_timestamp()");
        var before = (DateTime)(await now.ExecuteScalarAsync())!;
        var connecting = ConnectAsync(bob);
        // The new connection waits for the directory (its read-your-writes query shows in pg_stat_activity) ...
        await Eventually.Until(async () =>
        {
            await using var seen = Db.DataSource.CreateCommand("""
                select exists (select 1 from pg_stat_activity
                                where datname = current_database() and pid <> pg_backend_pid()
                                  and query like '%es_checkpoints c%' and query_start > $1)
                """);
            seen.Parameters.AddWithValue(before);
            return (bool)(await seen.ExecuteScalarAsync())!;
        }, waiting => waiting, what: "bob's new connection to wait for the directory");
        // ... while the channel gets a post, and until the directory has applied the join.
        var (_, position) = await PostAsync(ada, general, "right after the join");
        await hold.CommitAsync();
        var bobHub = await connecting;
        await bobHub.InvokeAsync("Resume", 0L);

        var events = await bobHub.WaitUntilAsync(e => Posted(e, general).Count >= 1, what: "the post after the join");
        Assert.Equal(["right after the join"], Posted(events, general).Select(TextOf));
        Assert.Equal(position, PositionOf(Posted(events, general)[0]));
    }

    [Fact]
    public async Task A_removed_member_stops_receiving_at_once_on_every_device()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        var other = await ChannelAsync(ada, ws, "other");
        await JoinAsync(bob, general);
        await JoinAsync(bob, other);
        await DirectoryAsync(general, [ada, bob]);
        await DirectoryAsync(other, [ada, bob]);
        var phone = await ConnectAsync(bob);
        var laptop = await ConnectAsync(bob);
        await PostAsync(ada, general, "before");

        await ada.Ok("DELETE", $"/v1/channels/{general}/members/{bob.UserId}");
        await PostAsync(ada, general, "after");
        await PostAsync(ada, other, "sentinel");

        foreach (var device in new[] { phone, laptop })
        {
            var events = await device.WaitUntilAsync(e => Posted(e, other).Count >= 1, what: "the sentinel");
            Assert.Equal(["before"], Posted(events, general).Select(TextOf));
            var left = Assert.Single(events, e => e.GetProperty("type").GetString() == "member.left");
            Assert.Equal(bob.UserId, left.GetProperty("data").GetProperty("userId").GetString());
        }
    }

    [Fact]
    public async Task A_joiner_starts_receiving_without_reconnecting()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        var hub = await ConnectAsync(bob);
        await PostAsync(ada, general, "before");

        await JoinAsync(bob, general);
        await hub.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "member.joined"), what: "member.joined");
        await PostAsync(ada, general, "after");

        var events = await hub.WaitUntilAsync(e => Posted(e, general).Count >= 1, what: "the post after joining");
        Assert.Equal(["after"], Posted(events, general).Select(TextOf));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_joiner_gets_the_posts_sent_before_the_node_was_bound_to_the_channel(bool deliveredBefore)
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general"); // ada is not connected: no connection of the node is in general
        var hub = await ConnectAsync(bob);
        var random = await ChannelAsync(bob, ws, "random");
        if (deliveredBefore)
        {
            await JoinAsync(bob, random);
            await PostAsync(bob, random, "earlier");
            await hub.WaitUntilAsync(e => Posted(e, random).Count >= 1, what: "the earlier post");
        }
        await using (var held = new HeldBinding(Host.Services.GetRequiredService<ChannelBindings>()))
        {
            await JoinAsync(bob, general);
            await held.Reached;
            // Sent while the node's binding for the channel is held back: the broker routes it nowhere.
            var (_, position) = await PostAsync(ada, general, "while binding");
            await PushedAsync(position);
        }
        await PostAsync(ada, general, "after");

        var events = await hub.WaitUntilAsync(e => Posted(e, general).Count >= 2, what: "both posts");
        Assert.Equal(["while binding", "after"], Posted(events, general).Select(TextOf));
        AssertNoDuplicates(events);
    }

    [Fact]
    public async Task A_joiner_gets_the_posts_sent_before_the_binding_another_member_made_took_effect()
    {
        // Ada's join (as creator) makes the node bind the channel; Bob joins while that binding is still on its way.
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var adaHub = await ConnectAsync(ada);
        var bobHub = await ConnectAsync(bob);
        string general;
        await using (var held = new HeldBinding(Host.Services.GetRequiredService<ChannelBindings>()))
        {
            general = await ChannelAsync(ada, ws, "general");
            await held.Reached;
            await JoinAsync(bob, general);
            var (_, position) = await PostAsync(ada, general, "while binding");
            await PushedAsync(position);
        }
        await PostAsync(ada, general, "after");

        foreach (var hub in new[] { adaHub, bobHub })
        {
            var events = await hub.WaitUntilAsync(e => Posted(e, general).Count >= 2, what: "both posts");
            Assert.Equal(["while binding", "after"], Posted(events, general).Select(TextOf));
            AssertNoDuplicates(events);
        }
    }

    [Fact]
    public async Task A_post_reaches_members_on_two_gateway_nodes()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        await JoinAsync(bob, general);
        await DirectoryAsync(general, [ada, bob]);
        _ = ExtraHost("api,projector");
        var gatewayA = ExtraHost("gateway");
        var gatewayB = ExtraHost("gateway");
        var onA = await ConnectAsync(ada, gatewayA);
        var onB = await ConnectAsync(bob, gatewayB);

        await PostAsync(ada, general, "to both nodes");

        foreach (var client in new[] { onA, onB })
        {
            var events = await client.WaitUntilAsync(e => Posted(e, general).Count >= 1, what: "the post");
            Assert.Equal(["to both nodes"], Posted(events, general).Select(TextOf));
        }
    }

    /// <summary>Holds back the node's next binding of a channel for a join until disposed.</summary>
    private sealed class HeldBinding : IAsyncDisposable
    {
        private readonly ChannelBindings _bindings;
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HeldBinding(ChannelBindings bindings)
        {
            _bindings = bindings;
            bindings.BindingForJoin = () =>
            {
                _reached.TrySetResult();
                return _release.Task;
            };
        }

        /// <summary>Completes when a join's binding is being held (fails after 10 s).</summary>
        public Task Reached => _reached.Task.WaitAsync(TimeSpan.FromSeconds(10));

        public ValueTask DisposeAsync()
        {
            _bindings.BindingForJoin = null;
            _release.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
