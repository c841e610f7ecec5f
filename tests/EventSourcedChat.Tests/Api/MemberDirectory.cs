using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>The member directory of a workspace: paged, searchable by name, with profile, role and presence.</summary>
public sealed class MemberDirectory(PostgresFixture db) : ApiTest(db)
{
    private static readonly string[] Presences = ["active", "away", "offline", "unknown"];

    /// <summary>Every page of the directory from <paramref name="query"/> on, following nextCursor.</summary>
    private static async Task<List<List<JsonElement>>> PagesAsync(TestUser caller, string ws, string query)
    {
        var pages = new List<List<JsonElement>>();
        string? cursor = null;
        do
        {
            var page = await caller.Ok("GET", $"/v1/workspaces/{ws}/members?{query}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            pages.Add([.. page.GetProperty("members").EnumerateArray()]);
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null && pages.Count < 20);
        return pages;
    }

    [Fact]
    public async Task Members_are_listed_by_name_in_pages_with_their_title_role_and_presence()
    {
        var admin = await RegisterAsync("zoe");
        var people = new List<TestUser>();
        foreach (var name in new[] { "Alice", "alina", "Bob", "carol", "Malik" })
        {
            people.Add(await RegisterAsync(name));
        }
        var auditor = await RegisterAsync("Erin");
        var outsider = await RegisterAsync("Alistair");
        var ws = await WorkspaceAsync(admin, [.. people]);
        await admin.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = auditor.UserId, role = "auditor" });
        var position = (await people[0].Ok("PATCH", "/v1/users/me", new { title = "Engineer" })).GetProperty("position").GetInt64();

        var pages = await PagesAsync(people[2], ws, $"limit=2&minPosition={position}");

        Assert.Equal([2, 2, 2, 1], pages.Select(p => p.Count));
        var all = pages.SelectMany(p => p).ToList();
        Assert.Equal(new[] { "Alice", "Bob", "Erin", "Malik", "alina", "carol", "zoe" }.Order(StringComparer.Create(System.Globalization.CultureInfo.InvariantCulture, true)),
            all.Select(m => m.GetProperty("displayName").GetString()).Order(StringComparer.Create(System.Globalization.CultureInfo.InvariantCulture, true)));
        Assert.Equal(all.Count, all.Select(m => m.GetProperty("userId").GetString()).Distinct().Count());
        var alice = all.Single(m => m.GetProperty("userId").GetString() == people[0].UserId);
        Assert.Equal(("Engineer", "member", JsonValueKind.Null), (alice.GetProperty("title").GetString(), alice.GetProperty("role").GetString(),
            alice.GetProperty("avatarUrl").ValueKind));
        Assert.Equal("admin", all.Single(m => m.GetProperty("userId").GetString() == admin.UserId).GetProperty("role").GetString());
        Assert.Equal("auditor", all.Single(m => m.GetProperty("userId").GetString() == auditor.UserId).GetProperty("role").GetString());
        Assert.All(all, m => Assert.Contains(m.GetProperty("presence").GetString(), Presences));
        Assert.DoesNotContain(all, m => m.GetProperty("userId").GetString() == outsider.UserId);
    }

    [Fact]
    public async Task A_search_keeps_the_names_that_contain_it_whatever_their_case()
    {
        var admin = await RegisterAsync("zoe");
        var people = new List<TestUser>();
        foreach (var name in new[] { "Alice", "alina", "Bob", "Malik", "NATALIA" })
        {
            people.Add(await RegisterAsync(name));
        }
        var ws = await WorkspaceAsync(admin, [.. people]);
        await UntilDirectoryAsync();

        var found = (await PagesAsync(people[2], ws, "q=ALI&limit=1")).SelectMany(p => p).Select(m => m.GetProperty("displayName").GetString()).ToList();
        var viaQuery = (await PagesAsync(people[2], ws, "query=ali")).SelectMany(p => p).Select(m => m.GetProperty("displayName").GetString()).ToList();

        Assert.Equal(["Alice", "Malik", "NATALIA", "alina"], found.Order(StringComparer.Ordinal));
        Assert.Equal(found, viaQuery);
        Assert.Empty((await PagesAsync(people[2], ws, "q=nobody")).SelectMany(p => p));
    }

    [Fact]
    public async Task Outsiders_get_not_found_and_bad_paging_is_invalid()
    {
        var admin = await RegisterAsync("zoe");
        var outsider = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(admin);
        await UntilDirectoryAsync();

        await outsider.Problem("GET", $"/v1/workspaces/{ws}/members", null, HttpStatusCode.NotFound, "not_found");
        await admin.Problem("GET", $"/v1/workspaces/{new string('0', 32)}/members", null, HttpStatusCode.NotFound, "not_found");
        foreach (var bad in new[] { "limit=0", "limit=201", "limit=x", "cursor=not-a-cursor", "q=a&q=b", "q=" + new string('a', 81) })
        {
            await admin.Problem("GET", $"/v1/workspaces/{ws}/members?{bad}", null, HttpStatusCode.BadRequest, "invalid_request");
        }
    }
}
