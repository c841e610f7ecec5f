using System.Text.Json;
using EventSourcedChat.Gateway.Realtime;
using Microsoft.Extensions.DependencyInjection;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Realtime;

public sealed class Resuming(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task Resume_after_a_disconnect_delivers_every_missed_post_in_order_once_then_live_ones()
    {
        var (ada, bob, general) = await TwoMembersAsync();
        var first = await ConnectAsync(bob);
        await PostAsync(ada, general, "seen");
        var seen = await first.WaitUntilAsync(e => Posted(e, general).Count == 1, what: "the first post");
        var cursor = PositionOf(seen[^1]);
        await first.DisposeAsync();

        for (var i = 0; i < 500; i++)
        {
            await PostAsync(ada, general, $"missed {i}");
        }
        var again = await ConnectAsync(bob);
        await again.InvokeAsync("Resume", cursor);
        await PostAsync(ada, general, "live");

        var events = await again.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "live"), what: "500 missed posts and a live one");
        var posts = Posted(events, general);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"missed {i}").Append("live"), posts.Select(TextOf));
        Assert.Equal(posts.Select(SeqOf).Order(), posts.Select(SeqOf));
        AssertNoDuplicates(events);
        Assert.DoesNotContain(events, e => PositionOf(e) <= cursor);
    }

    [Fact]
    public async Task Posts_arriving_during_the_replay_are_neither_dropped_nor_repeated()
    {
        var gateway = ExtraHost("gateway", new() { ["Realtime:ResumePageSize"] = "7" });
        var replay = gateway.Services.GetRequiredService<LogReplay>();
        var stats = gateway.Services.GetRequiredService<HandOverStats>();
        var (ada, bob, general) = await TwoMembersAsync();
        var first = await ConnectAsync(bob, gateway);
        await PostAsync(ada, general, "seen");
        var cursor = PositionOf((await first.WaitUntilAsync(e => Posted(e, general).Count == 1, what: "the first post"))[^1]);
        await first.DisposeAsync();
        for (var i = 0; i < 150; i++)
        {
            await PostAsync(ada, general, $"before {i}");
        }
        var again = await ConnectAsync(bob, gateway);

        // The replay is held at its start (live events already held) while posts go on, so the hand-over is
        // exercised however fast or busy the machine is.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        replay.ReplayStarting = () => release.Task;
        var during = Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await PostAsync(ada, general, $"during {i}");
            }
        });
        var resume = again.InvokeAsync("Resume", cursor);
        await Eventually.Until(() => Interlocked.Read(ref stats.BufferedDuringReplay) >= 5, TimeSpan.FromSeconds(20), "live posts held during the replay");
        release.SetResult();
        await resume;
        await during;

        var events = await again.WaitUntilAsync(e => Posted(e, general).Count >= 250, what: "250 posts");
        // Held live posts that the replay had already delivered were dropped, not sent twice.
        Assert.True(Interlocked.Read(ref stats.DroppedAsDelivered) > 0, "the replay covered some of the held live posts");
        var posts = Posted(events, general);
        var expected = Enumerable.Range(0, 150).Select(i => $"before {i}").Concat(Enumerable.Range(0, 100).Select(i => $"during {i}"));
        Assert.Equal(expected, posts.Select(TextOf));
        AssertNoDuplicates(events);
        Assert.Equal(posts.Select(SeqOf).Order(), posts.Select(SeqOf));
    }

    [Fact]
    public async Task Resume_beyond_the_maximum_backlog_answers_resync_required_and_live_delivery_goes_on()
    {
        var gateway = ExtraHost("gateway", new() { ["Realtime:MaxResumeBacklog"] = "20" });
        var (ada, bob, general) = await TwoMembersAsync();
        var first = await ConnectAsync(bob, gateway);
        await PostAsync(ada, general, "seen");
        var cursor = PositionOf((await first.WaitUntilAsync(e => Posted(e, general).Count == 1, what: "the first post"))[^1]);
        await first.DisposeAsync();
        var last = 0L;
        for (var i = 0; i < 21; i++)
        {
            last = (await PostAsync(ada, general, $"missed {i}")).Position;
        }
        await PushedAsync(last); // none of them is in flight to the new connection

        var again = await ConnectAsync(bob, gateway);
        await again.InvokeAsync("Resume", cursor);
        await PostAsync(ada, general, "live");

        var events = await again.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "live"), what: "resync.required then the live post");
        Assert.Equal("resync.required", events[0].GetProperty("type").GetString());
        Assert.Equal(["live"], Posted(events, general).Select(TextOf));
    }

    [Fact]
    public async Task Resume_replays_nothing_from_channels_the_user_is_not_in()
    {
        var (ada, bob, general) = await TwoMembersAsync();
        var secret = await ChannelAsync(ada, await WorkspaceAsync(ada), "secret", isPrivate: true);
        var first = await ConnectAsync(bob);
        await PostAsync(ada, general, "seen");
        var cursor = PositionOf((await first.WaitUntilAsync(e => Posted(e, general).Count == 1, what: "the first post"))[^1]);
        await first.DisposeAsync();
        await PostAsync(ada, secret, "not for bob");
        await PostAsync(ada, general, "for bob");

        var again = await ConnectAsync(bob);
        await again.InvokeAsync("Resume", cursor);
        var events = await again.WaitUntilAsync(e => Posted(e, general).Count >= 1, what: "the missed post");
        Assert.Equal(["for bob"], Posted(events, general).Select(TextOf));
        Assert.DoesNotContain(events, e => e.GetProperty("channelId").ValueKind == JsonValueKind.String
                                           && e.GetProperty("channelId").GetString() == secret);
    }

    private async Task<(TestUser Ada, TestUser Bob, string General)> TwoMembersAsync()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        await JoinAsync(bob, general);
        await DirectoryAsync(general, [ada, bob]);
        return (ada, bob, general);
    }
}
