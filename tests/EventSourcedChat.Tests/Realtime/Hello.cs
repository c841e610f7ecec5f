using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>
/// The hub's <c>hello</c> (API.md, "Connection"): sent once the connection is registered for its channels (bound on the
/// broker, in their typing groups), first, with the user and the log position the connection starts from. A client
/// that waits for it (the test's <see cref="HubClient"/>, the JS client, the web client) can rely on live delivery at
/// once: before hello, the handshake answer came before the hub's OnConnectedAsync ran, and an ephemeral event (typing)
/// sent in between was lost.
/// </summary>
public sealed class Hello(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task The_first_event_on_a_connection_is_hello_with_the_user_and_the_log_position_it_starts_from()
    {
        var ada = await RegisterAsync("ada");
        var channel = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var (seq, position) = await PostAsync(ada, channel, "before connecting");

        var hub = Own(await HubClient.ConnectAsync(Host, ada, barrier: false));
        var hello = await hub.Hello;

        Assert.Equal(0, hub.BeforeHello);
        Assert.Equal("hello", hello.GetProperty("type").GetString());
        Assert.Equal(ada.UserId, hello.GetProperty("data").GetProperty("userId").GetString());
        Assert.True(hello.GetProperty("data").GetProperty("position").GetInt64() >= position,
            $"hello's position {hello.GetProperty("data").GetProperty("position")} is at least the post's {position}");
        // Not a log event: no seq, and no envelope position that would move a client's resume cursor.
        Assert.True(!hello.TryGetProperty("seq", out var s) || s.ValueKind == JsonValueKind.Null);
        Assert.True(!hello.TryGetProperty("position", out var p) || p.ValueKind == JsonValueKind.Null);
        // Resume still replays what came before the hello's position.
        await hub.InvokeAsync("Resume", 0);
        var events = await hub.WaitUntilAsync(e => Posted(e, channel).Count == 1, what: "the replayed post");
        Assert.Equal(seq, SeqOf(Posted(events, channel)[0]));
        Assert.Equal(0, hub.BeforeHello);
    }

    [Fact]
    public async Task Typing_sent_right_after_hello_always_arrives()
    {
        const int Rounds = 4;
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var channels = new List<string>();
        for (var i = 0; i < Rounds; i++)
        {
            // A channel per round: typing is throttled to one notice per 3 s per user and channel.
            var channel = await ChannelAsync(ada, ws, $"typing-{i}");
            await JoinAsync(bob, channel);
            await DirectoryAsync(channel, [ada, bob]);
            channels.Add(channel);
        }
        var adaHub = await ConnectAsync(ada);

        foreach (var channel in channels)
        {
            // Bob's connect returns when hello came, with no round trip after it; ada types at once.
            await using var bobHub = await HubClient.ConnectAsync(Host, bob, barrier: false);
            await adaHub.InvokeAsync("Typing", channel);
            await bobHub.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "typing"
                    && x.GetProperty("channelId").GetString() == channel
                    && x.GetProperty("data").GetProperty("userId").GetString() == ada.UserId),
                TimeSpan.FromSeconds(10), $"ada's typing in {channel} right after bob's hello");
            Assert.Equal(0, bobHub.BeforeHello);
        }
    }
}
