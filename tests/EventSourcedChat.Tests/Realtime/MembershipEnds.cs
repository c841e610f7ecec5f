using System.Net;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>
/// What a live connection sees when its user's membership ends: removed from a workspace, it gets <c>member.left</c> for
/// each of the workspace's channels it was in and nothing from them afterwards; deactivated, it is closed and cannot
/// connect again.
/// </summary>
public sealed class MembershipEnds(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task A_member_removed_from_the_workspace_stops_receiving_its_channels_at_once()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        var secret = await ChannelAsync(ada, ws, "secret", isPrivate: true);
        await JoinAsync(bob, general);
        await ada.Ok("POST", $"/v1/channels/{secret}/members", new { userId = bob.UserId });
        // A workspace bob stays in, whose channel carries the sentinel: delivery to a connection is in log order.
        var elsewhere = await WorkspaceAsync(bob, ada);
        var lounge = await ChannelAsync(bob, elsewhere, "lounge");
        await DirectoryAsync(general, [ada, bob]);
        await DirectoryAsync(secret, [ada, bob]);
        var bobHub = await ConnectAsync(bob);
        await PostAsync(ada, secret, "before");
        await bobHub.WaitUntilAsync(e => Posted(e, secret).Count == 1, what: "the post before the removal");

        await ada.Ok("DELETE", $"/v1/workspaces/{ws}/members/{bob.UserId}");
        await bobHub.WaitUntilAsync(e => e.Count(x => x.GetProperty("type").GetString() == "member.left"
            && x.GetProperty("data").GetProperty("userId").GetString() == bob.UserId) == 2, what: "member.left of both channels");
        await PostAsync(ada, secret, "after, secret");
        await PostAsync(ada, general, "after, public");
        await PostAsync(bob, lounge, "sentinel");

        var events = await bobHub.WaitUntilAsync(e => Posted(e, lounge).Count == 1, what: "the sentinel");
        Assert.Equal(["before"], Posted(events, secret).Select(TextOf));
        Assert.Empty(Posted(events, general));
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "member.left" && e.GetProperty("channelId").GetString() == general);
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "member.left" && e.GetProperty("channelId").GetString() == secret);
        AssertNoDuplicates(events);
    }

    [Fact]
    public async Task A_deactivated_users_connections_are_closed_within_seconds_and_cannot_reconnect()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        await JoinAsync(bob, general);
        await DirectoryAsync(general, [ada, bob]);
        var bobHub = await ConnectAsync(bob);
        var adaHub = await ConnectAsync(ada);
        var adminNode = ExtraHost("api", new() { ["Admins"] = ada.UserId });

        var asked = System.Diagnostics.Stopwatch.StartNew();
        await ada.On(adminNode).Ok("POST", $"/v1/admin/users/{bob.UserId}/deactivate");
        await bobHub.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(asked.Elapsed < TimeSpan.FromSeconds(5), $"closed {asked.Elapsed.TotalMilliseconds:F0} ms after the deactivation was asked for");

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => HubClient.ConnectAsync(Host, bob));
        Assert.Contains("401", refused.ToString(), StringComparison.Ordinal);
        // Others are untouched: ada still gets the channel's events.
        await PostAsync(ada, general, "still on");
        await adaHub.WaitUntilAsync(e => Posted(e, general).Count == 1, what: "ada's own post");
        Assert.False(adaHub.Closed.IsCompleted);
        await Problems.AssertAsync(await bob.SendAsync("GET", "/v1/workspaces"), HttpStatusCode.Unauthorized, "unauthenticated");
    }
}
