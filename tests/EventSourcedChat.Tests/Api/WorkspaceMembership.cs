using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Removing members from a workspace and leaving it (<c>DELETE /v1/workspaces/{ws}/members/{userId}</c>): the channel
/// memberships end on every channel of the workspace, nothing of it is visible or writable afterwards, and the last admin stays.
/// </summary>
public sealed class WorkspaceMembership(PostgresFixture db) : ApiTest(db)
{
    private static long PositionOf(JsonElement answer) => answer.GetProperty("position").GetInt64();

    private static async Task<IReadOnlyList<string>> ChannelMembersAsync(TestUser reader, string channelId, long position) =>
        [.. (await reader.Ok("GET", $"/v1/channels/{channelId}/members?minPosition={position}")).EnumerateArray().Select(m => m.GetProperty("userId").GetString()!)];

    [Fact]
    public async Task A_removed_member_leaves_every_channel_and_sees_nothing_of_the_workspace_any_more()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);
        var general = await ChannelAsync(ada, ws, "general");
        var secret = await ChannelAsync(ada, ws, "secret", isPrivate: true);
        await bob.Ok("POST", $"/v1/channels/{general}/join");
        await ada.Ok("POST", $"/v1/channels/{secret}/members", new { userId = bob.UserId });
        var dm = (await bob.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { carol.UserId } })).GetProperty("channelId").GetString()!;
        var said = await bob.Ok("POST", $"/v1/channels/{secret}/messages", new { text = "my last words" }, HttpStatusCode.Created);

        var removed = PositionOf(await ada.Ok("DELETE", $"/v1/workspaces/{ws}/members/{bob.UserId}"));

        // The answer's position is the last member.left: every read model that waits for it has them all.
        Assert.DoesNotContain(bob.UserId, await ChannelMembersAsync(ada, general, removed));
        Assert.DoesNotContain(bob.UserId, await ChannelMembersAsync(ada, secret, removed));
        Assert.Equal([carol.UserId], await ChannelMembersAsync(carol, dm, removed));
        var workspaces = await bob.Ok("GET", $"/v1/workspaces?minPosition={removed}");
        Assert.DoesNotContain(workspaces.EnumerateArray(), w => w.GetProperty("workspaceId").GetString() == ws);
        foreach (var path in new[]
                 {
                     $"/v1/channels/{secret}", $"/v1/channels/{secret}/messages", $"/v1/channels/{general}/messages", $"/v1/channels/{dm}/messages",
                     $"/v1/workspaces/{ws}/channels", $"/v1/channels/{secret}/messages/{said.GetProperty("seq").GetInt64()}",
                 })
        {
            await bob.Problem("GET", $"{path}?minPosition={removed}", null, HttpStatusCode.NotFound, "not_found");
        }
        var before = await EventCountAsync();
        await bob.Problem("POST", $"/v1/channels/{general}/messages", new { text = "still here?" }, HttpStatusCode.NotFound, "not_found");
        await bob.Problem("POST", $"/v1/channels/{general}/join", null, HttpStatusCode.NotFound, "not_found");
        await bob.Problem("POST", $"/v1/workspaces/{ws}/channels", new { name = "mine" }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("POST", $"/v1/channels/{general}/members", new { userId = bob.UserId }, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(before, await EventCountAsync());

        // History is kept: what bob wrote stays in the channel for its members.
        var messages = await ada.Ok("GET", $"/v1/channels/{secret}/messages?minPosition={removed}");
        Assert.Contains(messages.GetProperty("messages").EnumerateArray(), m => m.GetProperty("text").GetString() == "my last words");

        // Removing him again changes nothing; added back, he is a member of the workspace but of none of its channels.
        var events = await EventCountAsync();
        await ada.Ok("DELETE", $"/v1/workspaces/{ws}/members/{bob.UserId}");
        Assert.Equal(events, await EventCountAsync());
        var back = PositionOf(await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId }));
        var channels = await bob.Ok("GET", $"/v1/workspaces/{ws}/channels?minPosition={back}");
        Assert.All(channels.EnumerateArray(), c => Assert.False(c.GetProperty("isMember").GetBoolean()));
        Assert.DoesNotContain(channels.EnumerateArray(), c => c.GetProperty("channelId").GetString() == secret);
    }

    [Fact]
    public async Task A_member_leaves_by_themselves_and_a_member_may_not_remove_others()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);
        var general = await ChannelAsync(ada, ws, "general");
        await carol.Ok("POST", $"/v1/channels/{general}/join");

        await bob.Problem("DELETE", $"/v1/workspaces/{ws}/members/{carol.UserId}", null, HttpStatusCode.Forbidden, "forbidden");
        var left = PositionOf(await carol.Ok("DELETE", $"/v1/workspaces/{ws}/members/{carol.UserId}"));

        Assert.DoesNotContain(carol.UserId, await ChannelMembersAsync(ada, general, left));
        await carol.Problem("GET", $"/v1/workspaces/{ws}/channels?minPosition={left}", null, HttpStatusCode.NotFound, "not_found");
        // Her member.left says she left by herself; the workspace event names nobody who removed her.
        await using var cmd = Db.DataSource.CreateCommand("""
            select type, data->>'removedBy' from es_events
             where (stream_id = $1 or stream_id = $2) and data->>'userId' = $3 and type in ('member.left.v1', 'workspace.member_removed.v1')
             order by position
            """);
        cmd.Parameters.AddWithValue($"workspace-{ws}");
        cmd.Parameters.AddWithValue($"channel-{general}");
        cmd.Parameters.AddWithValue(carol.UserId);
        var events = new List<(string Type, string? By)>();
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                events.Add((r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)));
            }
        }
        Assert.Equal<(string, string?)>([("workspace.member_removed.v1", null), ("member.left.v1", null)], events);
    }

    [Fact]
    public async Task The_last_admin_can_neither_leave_nor_be_removed_until_another_admin_exists()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var before = await EventCountAsync();

        var problem = await ada.Problem("DELETE", $"/v1/workspaces/{ws}/members/{ada.UserId}", null, HttpStatusCode.Conflict, "last_admin");
        Assert.Contains("last admin", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await EventCountAsync());

        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId, role = "admin" });
        var left = PositionOf(await ada.Ok("DELETE", $"/v1/workspaces/{ws}/members/{ada.UserId}"));
        await bob.Problem("DELETE", $"/v1/workspaces/{ws}/members/{bob.UserId}", null, HttpStatusCode.Conflict, "last_admin");
        var workspaces = await ada.Ok("GET", $"/v1/workspaces?minPosition={left}");
        Assert.Empty(workspaces.EnumerateArray());
    }

    [Fact]
    public async Task The_last_admin_cannot_step_down_to_another_role_but_one_of_two_admins_can()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var before = await EventCountAsync();

        await ada.Problem("POST", $"/v1/workspaces/{ws}/members", new { userId = ada.UserId, role = "member" }, HttpStatusCode.Conflict, "last_admin");
        Assert.Equal(before, await EventCountAsync());

        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId, role = "admin" });
        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = ada.UserId, role = "member" });
        await bob.Problem("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId, role = "auditor" }, HttpStatusCode.Conflict, "last_admin");
    }
}
