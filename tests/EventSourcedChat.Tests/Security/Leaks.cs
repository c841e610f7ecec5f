using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Security;

/// <summary>Invariant 8 beyond status codes: what a removed member's socket, search and resume give away.</summary>
public sealed class Leaks(PostgresFixture db) : SecurityTest(db)
{
    private async Task<TestUser> WorkspaceMemberAsync(string name)
    {
        var client = World.Host.CreateClient();
        var email = $"{name}-{Guid.NewGuid():N}@example.test";
        var body = await new TestUser("", email, client).Ok("POST", "/v1/auth/register",
            new { email, password = SecurityWorld.Password, displayName = name }, HttpStatusCode.Created);
        client.DefaultRequestHeaders.Authorization = new("Bearer", body.GetProperty("token").GetString());
        var user = new TestUser(body.GetProperty("userId").GetString()!, email, client);
        await World.Admin.Ok("POST", $"/v1/workspaces/{World.WorkspaceId}/members", new { userId = user.UserId });
        return user;
    }

    private async Task<string> ChannelWithAsync(TestUser user, bool isPrivate)
    {
        var ch = (await World.Creator.Ok("POST", $"/v1/workspaces/{World.WorkspaceId}/channels",
            new { name = $"l{Guid.NewGuid():N}"[..20], isPrivate }, HttpStatusCode.Created)).GetProperty("channelId").GetString()!;
        if (isPrivate)
        {
            await World.Creator.Ok("POST", $"/v1/channels/{ch}/members", new { userId = user.UserId });
        }
        else
        {
            await user.Ok("POST", $"/v1/channels/{ch}/join");
        }
        return ch;
    }

    private static long PositionOf(JsonElement answer) => answer.GetProperty("position").GetInt64();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_removed_members_open_socket_gets_nothing_more_from_the_channel(bool isPrivate)
    {
        var rita = await WorkspaceMemberAsync("rita");
        var ch = await ChannelWithAsync(rita, isPrivate);
        await World.CaughtUpAsync(PositionOf(await World.Creator.Ok("PATCH", $"/v1/channels/{ch}", new { topic = "joined" })));
        await using var ritaHub = await HubClient.ConnectAsync(World.Host, rita);
        var seq = (await World.Creator.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "before" }, HttpStatusCode.Created)).GetProperty("seq").GetInt64();
        await ritaHub.WaitUntilAsync(e => e.Any(x => ChannelOf(x) == ch && x.GetProperty("type").GetString() == "message.posted"), what: "the message before");

        var removed = PositionOf(await World.Creator.Ok("DELETE", $"/v1/channels/{ch}/members/{rita.UserId}"));
        await World.CaughtUpAsync(removed);
        await World.Creator.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "after the removal" }, HttpStatusCode.Created);
        await World.Creator.Ok("PUT", $"/v1/channels/{ch}/messages/{seq}/reactions/eyes");
        await World.Creator.Ok("PUT", $"/v1/channels/{ch}/messages/{seq}/pin");
        await World.Creator.Ok("PATCH", $"/v1/channels/{ch}/messages/{seq}", new { text = "before, edited" });
        await World.CreatorHub.InvokeAsync("Typing", ch);
        var last = PositionOf(await World.Creator.Ok("PATCH", $"/v1/channels/{ch}", new { topic = "after" }));
        // The creator's other connection got all of it, so it was all pushed; rita's got none of it.
        await World.CreatorHub.WaitUntilAsync(e => e.Any(x => Position(x) == last), what: "the last change");
        await ritaHub.BarrierAsync();

        var leaked = ritaHub.Events.Where(e => ChannelOf(e) == ch && (Position(e) > removed || e.GetProperty("type").GetString() == "typing")).ToList();
        Assert.True(leaked.Count == 0, $"the removed member was pushed {string.Join(", ", leaked.Select(HubClient.Describe))}");
        // Nor does a new connection's resume replay any of the channel, before or after the removal.
        await using var again = await HubClient.ConnectAsync(World.Host, rita);
        await again.InvokeAsync("Resume", 0L);
        await again.BarrierAsync();
        Assert.DoesNotContain(again.Events, e => ChannelOf(e) == ch);
        if (isPrivate)
        {
            await rita.Problem("GET", $"/v1/channels/{ch}/messages", null, HttpStatusCode.NotFound, "not_found");
        }
    }

    [Fact]
    public async Task Search_answers_only_messages_of_channels_the_caller_is_in_now()
    {
        var lena = await WorkspaceMemberAsync("lena");
        var left = await ChannelWithAsync(lena, isPrivate: false);
        var leftPrivate = await ChannelWithAsync(lena, isPrivate: true);
        await lena.Ok("POST", $"/v1/channels/{left}/messages", new { text = "rutabaga in public" }, HttpStatusCode.Created);
        await lena.Ok("POST", $"/v1/channels/{leftPrivate}/messages", new { text = "rutabaga in private" }, HttpStatusCode.Created);
        await World.Creator.Ok("POST", $"/v1/channels/{World.Private.ChannelId}/messages", new { text = "rutabaga others only" }, HttpStatusCode.Created);
        await lena.Ok("POST", $"/v1/channels/{left}/leave");
        var position = PositionOf(await lena.Ok("POST", $"/v1/channels/{leftPrivate}/leave"));
        await World.CaughtUpAsync(position);

        async Task<List<string>> SearchAsync(TestUser user, string extra = "")
        {
            var found = await user.Ok("GET", $"/v1/search?workspaceId={World.WorkspaceId}&q=rutabaga&limit=100{extra}&minPosition={position}");
            return [.. found.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("channelId").GetString()!)];
        }

        // Her own messages, in channels she left: gone from her results, as is the private channel she was never in.
        Assert.Empty(await SearchAsync(lena));
        Assert.Equal([World.Private.ChannelId], await SearchAsync(World.Member));
        foreach (var caller in new[] { Caller.NonMember, Caller.RemovedMember, Caller.WorkspaceAdmin, Caller.Auditor })
        {
            Assert.Empty(await SearchAsync(World.UserOf(caller)!));
        }
        await lena.Problem("GET", $"/v1/search?workspaceId={World.WorkspaceId}&q=rutabaga&channelId={leftPrivate}", null, HttpStatusCode.NotFound, "not_found");
        await World.Other.Problem("GET", $"/v1/search?workspaceId={World.WorkspaceId}&q=rutabaga", null, HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData(Caller.OtherWorkspaceUser)]
    [InlineData(Caller.NonMember)]
    [InlineData(Caller.RemovedMember)]
    [InlineData(Caller.Member)]
    [InlineData(Caller.ChannelCreator)]
    [InlineData(Caller.WorkspaceAdmin)]
    [InlineData(Caller.Auditor)]
    [InlineData(Caller.RemovedFromWorkspace)]
    public async Task Search_results_are_all_of_the_callers_channels(Caller caller)
    {
        var user = World.UserOf(caller)!;
        var found = await user.SendAsync("GET", $"/v1/search?workspaceId={World.WorkspaceId}&q=secret&limit=100&minPosition={World.Position}");
        var text = await found.Content.ReadAsStringAsync();
        if (caller is Caller.OtherWorkspaceUser or Caller.RemovedFromWorkspace)
        {
            Assert.Equal(HttpStatusCode.NotFound, found.StatusCode);
            return;
        }
        Assert.True(found.StatusCode == HttpStatusCode.OK, text);
        await using var cmd = Db.DataSource.CreateCommand("select coalesce(array_agg(channel_id), '{}') from ws_channel_members where user_id = $1");
        cmd.Parameters.AddWithValue(user.UserId);
        var mine = (string[])(await cmd.ExecuteScalarAsync())!;
        var channels = JsonDocument.Parse(text).RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("channelId").GetString()!).ToList();
        Assert.All(channels, ch => Assert.Contains(ch, mine));
        // The private scene's own message, searched in its channel: a page holds 100 results, newest first, and the
        // members are in every scene the other security tests made since (a few hundred when they ran first).
        var inPrivate = await user.SendAsync("GET", $"/v1/search?workspaceId={World.WorkspaceId}&q=secret&channelId={World.Private.ChannelId}&minPosition={World.Position}");
        if (caller is Caller.Member or Caller.ChannelCreator)
        {
            var results = await inPrivate.Content.ReadAsStringAsync();
            Assert.True(inPrivate.StatusCode == HttpStatusCode.OK, results);
            Assert.Contains(JsonDocument.Parse(results).RootElement.GetProperty("results").EnumerateArray(),
                r => r.GetProperty("channelId").GetString() == World.Private.ChannelId && r.GetProperty("seq").GetInt64() == World.Private.Seq);
        }
        else
        {
            await Problems.AssertAsync(inPrivate, HttpStatusCode.NotFound, "not_found");
        }
    }
}
