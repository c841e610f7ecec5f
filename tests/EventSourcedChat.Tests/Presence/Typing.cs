using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Presence;

public sealed class Typing(PostgresFixture db) : PresenceTest(db)
{
    private static List<string> TypistsIn(MiniHubClient client, string channelId) =>
        [.. client.EventsOfType("typing")
            .Where(e => e.GetProperty("channelId").GetString() == channelId)
            .Select(e => e.GetProperty("data").GetProperty("userId").GetString()!)];

    private static Task<JsonElement> WaitForTypingAsync(MiniHubClient client, string channelId, TestUser typist) =>
        client.WaitForAsync(e => e.GetProperty("type").GetString() == "typing"
                && e.GetProperty("channelId").GetString() == channelId
                && e.GetProperty("data").GetProperty("userId").GetString() == typist.UserId,
            $"typing of {typist.UserId}");

    [Fact]
    public async Task Typing_reaches_the_other_members_not_the_typist_nor_non_members_and_is_throttled()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carl = await RegisterAsync("carl");
        var dave = await RegisterAsync("dave");
        var ws = await WorkspaceAsync(ada, bob, carl, dave);
        var ch = await ChannelAsync(ada, ws);
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        await carl.Ok("POST", $"/v1/channels/{ch}/join");
        await UntilMembersAsync(ch, ada, bob, carl);
        await using var adaHub = await ConnectAsync(ada);
        await using var bobHub = await ConnectAsync(bob);
        await using var carlHub = await ConnectAsync(carl);
        await using var daveHub = await ConnectAsync(dave);
        await JoinGroupAsync(ch, adaHub, bobHub, carlHub);

        await adaHub.InvokeAsync("Typing", ch);
        var envelope = await WaitForTypingAsync(bobHub, ch, ada);
        await adaHub.InvokeAsync("Typing", ch); // within 3 s: throttled
        // Dave is in the workspace, not in the channel: he may not signal typing there.
        var refused = await Assert.ThrowsAsync<HubError>(() => daveHub.InvokeAsync("Typing", ch));
        Assert.Contains("not_found", refused.Message, StringComparison.Ordinal);
        // A marker: bob types after all of the above; one ordered queue delivers whatever they caused before it.
        await bobHub.InvokeAsync("Typing", ch);
        await WaitForTypingAsync(carlHub, ch, bob);
        await WaitForTypingAsync(adaHub, ch, bob);

        Assert.Equal([ada.UserId, bob.UserId], TypistsIn(carlHub, ch));
        Assert.Equal([bob.UserId], TypistsIn(adaHub, ch)); // never her own
        Assert.Equal([ada.UserId], TypistsIn(bobHub, ch));
        Assert.Empty(daveHub.EventsOfType("typing"));
        Assert.Equal(ch, envelope.GetProperty("data").GetProperty("channelId").GetString());
        Assert.True(envelope.TryGetProperty("at", out _));
    }

    [Fact]
    public async Task Typing_in_an_unknown_channel_is_not_found_and_in_no_channel_invalid_request()
    {
        var ada = await RegisterAsync("ada");
        await using var adaHub = await ConnectAsync(ada);

        var unknown = await Assert.ThrowsAsync<HubError>(() => adaHub.InvokeAsync("Typing", "no-such-channel"));
        var empty = await Assert.ThrowsAsync<HubError>(() => adaHub.InvokeAsync("Typing", ""));

        Assert.Contains("not_found", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("invalid_request", empty.Message, StringComparison.Ordinal);
    }
}
