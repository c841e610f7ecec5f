using System.Net;
using EventSourcedChat.Tests.Infrastructure;
using StackExchange.Redis;

namespace EventSourcedChat.Tests.Presence;

public sealed class PresenceTracking(PostgresFixture db) : PresenceTest(db)
{
    private string PresenceKey(string userId) => $"{Prefix}presence:{userId}";

    private string ConnsKey(string userId) => $"{Prefix}presence:conns:{userId}";

    [Fact]
    public async Task Subscribing_sends_the_current_state_active_for_a_connected_user_offline_for_another()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carl = await RegisterAsync("carl");
        await WorkspaceAsync(carl, ada, bob); // presence is visible only to those sharing a workspace
        await UntilDirectoryAsync(); // as the directory read model knows it
        await using var adaHub = await ConnectAsync(ada);
        await using var carlHub = await ConnectAsync(carl);

        await carlHub.SubscribePresenceAsync(ada.UserId, bob.UserId);

        // The snapshot is sent before the invocation completes: one envelope per user.
        Assert.Equal(["active"], carlHub.PresenceOf(ada.UserId));
        Assert.Equal(["offline"], carlHub.PresenceOf(bob.UserId));
        var envelope = carlHub.EventsOfType("presence.changed")[0];
        Assert.True(envelope.TryGetProperty("at", out _));
        Assert.Equal("active", (string?)await Redis.StringGetAsync(PresenceKey(ada.UserId)));
    }

    [Fact]
    public async Task REST_reads_presence_from_the_same_store_as_the_hub()
    {
        var ada = await RegisterAsync("ada");
        var carl = await RegisterAsync("carl");
        var ws = await WorkspaceAsync(carl, ada);
        var channel = (await carl.Ok("POST", $"/v1/workspaces/{ws}/channels", new { name = "general" }, HttpStatusCode.Created)).GetProperty("channelId").GetString();
        var joined = (await ada.Ok("POST", $"/v1/channels/{channel}/join")).GetProperty("position").GetInt64();
        var rest = carl with { Client = Gateway.CreateClient() };
        rest.Client.DefaultRequestHeaders.Authorization = carl.Client.DefaultRequestHeaders.Authorization;
        async Task<string?> UserPresence() => (await rest.Ok("GET", $"/v1/users/{ada.UserId}?minPosition={joined}")).GetProperty("presence").GetString();
        async Task<string?> MemberPresence() => (await rest.Ok("GET", $"/v1/channels/{channel}/members?minPosition={joined}")).EnumerateArray()
            .Single(m => m.GetProperty("userId").GetString() == ada.UserId).GetProperty("presence").GetString();
        Assert.Equal("offline", await UserPresence());

        var adaHub = await ConnectAsync(ada);
        Assert.Equal("active", await UserPresence());
        Assert.Equal("active", await MemberPresence());
        await adaHub.InvokeAsync("SetPresence", "away");
        await Eventually.Until(UserPresence, p => p == "away", what: "away over REST");
        await adaHub.DisposeAsync();

        await Eventually.Until(MemberPresence, p => p == "offline", what: "offline over REST");
    }

    [Fact]
    public async Task SetPresence_away_and_back_to_active_reach_subscribers_and_a_new_connection_keeps_away()
    {
        var ada = await RegisterAsync("ada");
        var carl = await RegisterAsync("carl");
        await WorkspaceAsync(carl, ada); // presence is visible only to those sharing a workspace
        await UntilDirectoryAsync(); // as the directory read model knows it
        await using var adaHub = await ConnectAsync(ada);
        await using var carlHub = await ConnectAsync(carl);
        await carlHub.SubscribePresenceAsync(ada.UserId);

        await adaHub.InvokeAsync("SetPresence", "away");
        await carlHub.WaitForPresenceAsync(ada.UserId, "away");

        // Away is per user: another device connecting does not make ada active.
        await using var adaPhone = await ConnectAsync(ada);
        await adaHub.InvokeAsync("SetPresence", "active");
        await Eventually.Until(() => carlHub.PresenceOf(ada.UserId).Count == 3, what: "ada active again");
        Assert.Equal(["active", "away", "active"], carlHub.PresenceOf(ada.UserId));
        await Assert.ThrowsAsync<HubError>(() => adaHub.InvokeAsync("SetPresence", "busy"));
    }

    [Fact]
    public async Task Closing_the_last_connection_makes_the_user_offline_and_an_earlier_close_does_not()
    {
        var ada = await RegisterAsync("ada");
        var carl = await RegisterAsync("carl");
        await WorkspaceAsync(carl, ada); // presence is visible only to those sharing a workspace
        await UntilDirectoryAsync(); // as the directory read model knows it
        var adaLaptop = await ConnectAsync(ada);
        var adaPhone = await ConnectAsync(ada);
        await using var carlHub = await ConnectAsync(carl);
        await carlHub.SubscribePresenceAsync(ada.UserId);

        await adaLaptop.DisposeAsync();
        await UntilDisconnectedAsync(ada, remaining: 1);
        // Whatever the first close published would arrive before this change (one ordered queue).
        await adaPhone.InvokeAsync("SetPresence", "away");
        await carlHub.WaitForPresenceAsync(ada.UserId, "away");
        Assert.Equal(["active", "away"], carlHub.PresenceOf(ada.UserId));

        await adaPhone.DisposeAsync();
        await carlHub.WaitForPresenceAsync(ada.UserId, "offline");
        Assert.Equal(["active", "away", "offline"], carlHub.PresenceOf(ada.UserId));
        Assert.False(await Redis.KeyExistsAsync(PresenceKey(ada.UserId)));
        Assert.False(await Redis.KeyExistsAsync(ConnsKey(ada.UserId)));
    }

    [Fact]
    public async Task The_users_of_a_node_that_died_go_offline_when_their_key_expires()
    {
        var dave = await RegisterAsync("dave");
        var carl = await RegisterAsync("carl");
        await WorkspaceAsync(carl, dave); // presence is visible only to those sharing a workspace
        await UntilDirectoryAsync(); // as the directory read model knows it
        // What a node leaves behind when it dies with dave connected: his key and its entry, renewed by nobody
        // (no liveness key), with the test TTL of 2 s.
        await Redis.StringSetAsync(PresenceKey(dave.UserId), "active", TimeSpan.FromSeconds(2));
        await Redis.HashSetAsync(ConnsKey(dave.UserId), "dead-node", "1");
        await Redis.KeyExpireAsync(ConnsKey(dave.UserId), TimeSpan.FromSeconds(2));
        await using var carlHub = await ConnectAsync(carl);

        await carlHub.SubscribePresenceAsync(dave.UserId);
        Assert.Equal(["active"], carlHub.PresenceOf(dave.UserId));

        await carlHub.WaitForPresenceAsync(dave.UserId, "offline", TimeSpan.FromSeconds(15));
        Assert.Equal(["active", "offline"], carlHub.PresenceOf(dave.UserId));
    }

    [Fact]
    public async Task A_user_back_right_behind_the_expiry_of_their_key_stays_active_for_watchers()
    {
        // Redis sends the expired event and the presence message on two channels, and StackExchange.Redis reads each
        // channel in its own loop: the offline of an expiry must not land after the active of a user who came back at
        // once (a touch that found the key expired recreates it and publishes active right behind the expired event).
        var dave = await RegisterAsync("dave");
        var carl = await RegisterAsync("carl");
        await WorkspaceAsync(carl, dave);
        await UntilDirectoryAsync();
        await Redis.StringSetAsync(PresenceKey(dave.UserId), "active", TimeSpan.FromSeconds(60));
        await using var carlHub = await ConnectAsync(carl);
        await carlHub.SubscribePresenceAsync(dave.UserId);
        Assert.Equal(["active"], carlHub.PresenceOf(dave.UserId));

        // Playing Redis and the node dave came back through: each round, in one script, the key's expired event and
        // the active that recreated it, back to back on the wire.
        var database = ConfigurationOptions.Parse(RedisConnectionString).DefaultDatabase ?? 0;
        const int rounds = 40;
        for (var i = 0; i < rounds; i++)
        {
            await Redis.ScriptEvaluateAsync("""
                redis.call('PUBLISH', ARGV[1], KEYS[1])
                redis.call('PUBLISH', ARGV[2], ARGV[3])
                return 1
                """,
                [PresenceKey(dave.UserId)],
                [$"__keyevent@{database}__:expired", $"{Prefix}presence", $$"""{"userId":"{{dave.UserId}}","status":"active"}"""]);
        }
        await Eventually.Until(() => Task.FromResult(carlHub.PresenceOf(dave.UserId)), l => l.Count(x => x == "active") >= rounds + 1,
            what: "every active of dave");
        // A snapshot goes through the node's ordered send queue behind every send enqueued before it.
        await carlHub.SubscribePresenceAsync(dave.UserId);
        var seen = carlHub.PresenceOf(dave.UserId);
        Assert.DoesNotContain("offline", seen);
        Assert.Equal("active", seen[^1]);
    }

    [Fact]
    public async Task A_dead_nodes_users_go_offline_even_when_redis_holds_many_keys_with_a_ttl()
    {
        // Redis's background expiry samples keys with a TTL at random: among 20,000 it takes minutes to reach one.
        var filler = Enumerable.Range(0, 20_000).Select(i => (RedisKey)$"{Prefix}filler:{i}").ToArray();
        try
        {
            await Task.WhenAll(filler.Select(k => Redis.StringSetAsync(k, "1", TimeSpan.FromSeconds(30))));
            var dave = await RegisterAsync("dave");
            var carl = await RegisterAsync("carl");
            await WorkspaceAsync(carl, dave); // presence is visible only to those sharing a workspace
        await UntilDirectoryAsync(); // as the directory read model knows it
            await Redis.StringSetAsync(PresenceKey(dave.UserId), "active", TimeSpan.FromSeconds(2));
            await Redis.HashSetAsync(ConnsKey(dave.UserId), "dead-node", "1");
            await using var carlHub = await ConnectAsync(carl);
            await carlHub.SubscribePresenceAsync(dave.UserId);
            Assert.Equal(["active"], carlHub.PresenceOf(dave.UserId));

            await carlHub.WaitForPresenceAsync(dave.UserId, "offline", TimeSpan.FromSeconds(10));
            Assert.Equal(["active", "offline"], carlHub.PresenceOf(dave.UserId));
        }
        finally
        {
            foreach (var chunk in filler.Chunk(1000))
            {
                await Redis.KeyDeleteAsync(chunk);
            }
        }
    }

    [Fact]
    public async Task A_last_local_close_ignores_a_dead_nodes_entry_but_keeps_a_user_another_live_node_holds()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carl = await RegisterAsync("carl");
        await WorkspaceAsync(carl, ada, bob); // presence is visible only to those sharing a workspace
        await UntilDirectoryAsync(); // as the directory read model knows it
        var adaHub = await ConnectAsync(ada);
        var bobHub = await ConnectAsync(bob);
        await using var carlHub = await ConnectAsync(carl);
        await carlHub.SubscribePresenceAsync(ada.UserId, bob.UserId);
        // Ada also "has" a connection on a node that died (no liveness key); bob one on a live node.
        await Redis.HashSetAsync(ConnsKey(ada.UserId), "dead-node", "1");
        await Redis.HashSetAsync(ConnsKey(bob.UserId), "live-node", "1");
        await Redis.StringSetAsync($"{Prefix}presence:node:live-node", "1", TimeSpan.FromMinutes(1));

        await adaHub.DisposeAsync();
        await bobHub.DisposeAsync();
        await UntilDisconnectedAsync(ada);
        await UntilDisconnectedAsync(bob);

        // Ada: the dead node's entry is dropped, she is offline at once (her key is gone, not left to expire).
        Assert.False(await Redis.KeyExistsAsync(PresenceKey(ada.UserId)));
        await carlHub.WaitForPresenceAsync(ada.UserId, "offline");
        // Bob: still on the live node; his key stays until that node closes his connection or stops renewing.
        Assert.True(await Redis.HashExistsAsync(ConnsKey(bob.UserId), "live-node"));
        Assert.DoesNotContain("offline", carlHub.PresenceOf(bob.UserId));
        // That node never renews (it is the test): the TTL runs out and bob goes offline by expiry.
        await carlHub.WaitForPresenceAsync(bob.UserId, "offline", TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_connected_users_key_is_renewed_past_its_ttl_without_a_write_per_heartbeat()
    {
        var ada = await RegisterAsync("ada");
        var carl = await RegisterAsync("carl");
        await WorkspaceAsync(carl, ada); // presence is visible only to those sharing a workspace
        await UntilDirectoryAsync(); // as the directory read model knows it
        await using var adaHub = await ConnectAsync(ada);
        await using var carlHub = await ConnectAsync(carl);
        await carlHub.SubscribePresenceAsync(ada.UserId);

        // Three TTLs later ada is still active and no offline was ever published.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(6);
        await Eventually.Until(async () =>
        {
            Assert.True(await Redis.KeyExistsAsync(PresenceKey(ada.UserId)), "the key of a connected user expired");
            return DateTime.UtcNow > until;
        }, done => done, TimeSpan.FromSeconds(10), "three TTLs");
        Assert.Equal(["active"], carlHub.PresenceOf(ada.UserId));
    }

    [Fact]
    public async Task A_user_sharing_no_workspace_is_left_out_until_the_directory_has_them_in_one()
    {
        var ada = await RegisterAsync("ada");
        var carl = await RegisterAsync("carl");
        var theirs = await WorkspaceAsync(ada);
        await WorkspaceAsync(carl);
        await UntilDirectoryAsync();
        await using var adaHub = await ConnectAsync(ada);
        await using var carlHub = await ConnectAsync(carl);

        // Ada is connected (active), but carl shares no workspace with her: he learns nothing, not even "offline".
        await adaHub.SubscribePresenceAsync(ada.UserId);
        await carlHub.SubscribePresenceAsync(ada.UserId, carl.UserId);
        Assert.Equal(["active"], carlHub.PresenceOf(carl.UserId));
        Assert.Empty(carlHub.PresenceOf(ada.UserId));
        await adaHub.InvokeAsync("SetPresence", "away");
        await adaHub.WaitForPresenceAsync(ada.UserId, "away"); // the node has sent her change, to her watchers only
        Assert.Empty(carlHub.PresenceOf(ada.UserId));

        // Once the directory read model has carl in ada's workspace, a new subscription sees her.
        await ada.Ok("POST", $"/v1/workspaces/{theirs}/members", new { userId = carl.UserId });
        await UntilDirectoryAsync();
        await carlHub.SubscribePresenceAsync(ada.UserId);
        Assert.Equal(["away"], carlHub.PresenceOf(ada.UserId));
    }

    [Fact]
    public async Task Subscribing_to_more_than_500_users_is_invalid_request()
    {
        var carl = await RegisterAsync("carl");
        await using var carlHub = await ConnectAsync(carl);
        var tooMany = Enumerable.Range(0, 501).Select(i => $"u{i}").ToArray();

        var error = await Assert.ThrowsAsync<HubError>(() => carlHub.SubscribePresenceAsync(tooMany));

        Assert.Contains("invalid_request", error.Message, StringComparison.Ordinal);
        // 500 is allowed; ids of no one carl may see (here: of no one at all) get nothing, carl himself his state.
        await carlHub.SubscribePresenceAsync([carl.UserId, .. Enumerable.Range(0, 499).Select(i => $"u{i}")]);
        Assert.Equal(["active"], carlHub.PresenceOf(carl.UserId));
        Assert.Single(carlHub.EventsOfType("presence.changed"));
    }
}
