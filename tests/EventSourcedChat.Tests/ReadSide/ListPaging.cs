using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>
/// The channel list and the member list are paged with <c>?limit=</c> and an opaque <c>?cursor=</c>: the body stays an
/// array, a <c>Link: &lt;…&gt;; rel="next"</c> header points at the next page, and the last page has none.
/// </summary>
public sealed class ListPaging(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task The_channel_list_pages_through_every_channel_once_in_the_unpaged_order_with_a_link_to_the_next_page()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        foreach (var name in new[] { "echo", "alpha", "delta", "bravo", "charlie" })
        {
            await ChannelAsync(ada, ws, name);
        }
        var position = (await ada.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId } })).GetProperty("position").GetInt64();

        var whole = await ada.Ok("GET", $"/v1/workspaces/{ws}/channels?limit=1000&minPosition={position}");
        var pages = await PagesAsync(ada, $"/v1/workspaces/{ws}/channels?limit=2&minPosition={position}");

        Assert.Equal([2, 2, 2], pages.Select(p => p.Count));
        Assert.Equal(["alpha", "bravo", "charlie", "delta", "echo", ""], pages.SelectMany(p => p).Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(whole.EnumerateArray().Select(c => c.GetRawText()), pages.SelectMany(p => p).Select(c => c.GetRawText()));
    }

    [Fact]
    public async Task The_member_list_pages_through_every_member_once_by_display_name_with_a_link_to_the_next_page()
    {
        var users = new List<TestUser>();
        foreach (var name in new[] { "eve", "ada", "dan", "bob", "cat" })
        {
            users.Add(await RegisterAsync(name));
        }
        var ws = await WorkspaceAsync(users[0], [.. users.Skip(1)]);
        var general = await ChannelAsync(users[0], ws);
        var position = 0L;
        foreach (var user in users.Skip(1))
        {
            position = (await user.Ok("POST", $"/v1/channels/{general}/join")).GetProperty("position").GetInt64();
        }

        var whole = await users[0].Ok("GET", $"/v1/channels/{general}/members?limit=1000&minPosition={position}");
        var pages = await PagesAsync(users[0], $"/v1/channels/{general}/members?limit=2&minPosition={position}");

        Assert.Equal([2, 2, 1], pages.Select(p => p.Count));
        Assert.Equal(["ada", "bob", "cat", "dan", "eve"], pages.SelectMany(p => p).Select(m => m.GetProperty("displayName").GetString()));
        Assert.Equal(whole.EnumerateArray().Select(m => m.GetProperty("userId").GetString()),
            pages.SelectMany(p => p).Select(m => m.GetProperty("userId").GetString()));
    }

    [Fact]
    public async Task A_bad_limit_or_a_cursor_the_api_did_not_give_out_is_an_invalid_request()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws);
        await ChannelAsync(ada, ws, "random");
        var position = (await bob.Ok("POST", $"/v1/channels/{general}/join")).GetProperty("position").GetInt64();
        var channelsNext = Next(await ada.SendAsync("GET", $"/v1/workspaces/{ws}/channels?limit=1&minPosition={position}"));
        var membersNext = Next(await ada.SendAsync("GET", $"/v1/channels/{general}/members?limit=1&minPosition={position}"));
        Assert.NotNull(channelsNext);
        Assert.NotNull(membersNext);
        var memberCursor = membersNext![(membersNext.IndexOf("cursor=", StringComparison.Ordinal) + 7)..];
        var channelCursor = channelsNext![(channelsNext.IndexOf("cursor=", StringComparison.Ordinal) + 7)..];

        foreach (var list in new[] { $"/v1/workspaces/{ws}/channels", $"/v1/channels/{general}/members" })
        {
            foreach (var query in new[] { "limit=0", "limit=1001", "limit=-1", "limit=x", "limit=1&limit=2", "cursor=", "cursor=not-a-cursor", "cursor=W10" })
            {
                await ada.Problem("GET", $"{list}?{query}", null, HttpStatusCode.BadRequest, "invalid_request");
            }
        }
        // A cursor of one list is not a cursor of the other.
        await ada.Problem("GET", $"/v1/workspaces/{ws}/channels?cursor={memberCursor}", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("GET", $"/v1/channels/{general}/members?cursor={channelCursor}", null, HttpStatusCode.BadRequest, "invalid_request");
    }

    /// <summary>Every page from <paramref name="first"/> on, following the <c>Link</c> header until a page has none.</summary>
    private static async Task<List<List<JsonElement>>> PagesAsync(TestUser user, string first)
    {
        var pages = new List<List<JsonElement>>();
        for (var path = first; path is not null && pages.Count < 100;)
        {
            var response = await user.SendAsync("GET", path);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {text}");
            pages.Add(JsonDocument.Parse(text).RootElement.Clone().EnumerateArray().ToList());
            path = Next(response);
        }
        return pages;
    }

    /// <summary>The target of a <c>Link: &lt;url&gt;; rel="next"</c> header, or null.</summary>
    private static string? Next(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Link", out var links)
            && links.SingleOrDefault() is { } link && link.EndsWith("; rel=\"next\"", StringComparison.Ordinal)
            ? link[1..link.IndexOf('>', StringComparison.Ordinal)]
            : null;
}
