using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// People on the page: the workspace's member directory (pages, search by name, filters by role and presence), and the
/// people picker built on it where the page used to ask for a pasted user id: inviting to a channel and starting a DM
/// or a group DM.
/// </summary>
public sealed class People(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task The_directory_pages_and_filters_people_and_the_picker_invites_them_and_starts_a_group_dm_listed_with_the_dms()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var carol = await ApiUser.RegisterAsync(node, "Carol");
        var dave = await ApiUser.RegisterAsync(node, "Dave");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        foreach (var person in new[] { bob, carol, dave })
        {
            await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = person.UserId });
        }
        // 48 more members: 52 in all, so the directory has a second page (50 a page).
        // One at a time: a burst of sign-ups would take a connection each from the PostgreSQL cluster others share.
        for (var i = 1; i <= 48; i++)
        {
            var person = await ApiUser.RegisterAsync(node, $"Member{i:00}");
            await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = person.UserId });
        }
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = dave.UserId, role = "auditor" });
        var launch = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "launch" }, "channelId");

        var adaPage = await OpenPageAsync(node.Url.ToString());
        var bobPage = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(adaPage);
        await bob.LogInAsync(bobPage);
        await Eventually.Until(async () => (await ada.GetAsync($"/v1/users/{bob.UserId}")).GetProperty("presence").GetString(),
            presence => presence == "active", TimeSpan.FromSeconds(20), "Bob active");

        // The directory: the first page, then the second.
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "People", Exact = true }).ClickAsync();
        var rows = adaPage.GetByTestId("directory-member");
        await Expect(rows).ToHaveCountAsync(50);
        await Expect(rows.First.Locator(".label")).ToHaveTextAsync("Ada");
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Show more" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(52);
        await Expect(adaPage.GetByRole(AriaRole.Button, new() { Name = "Show more" })).ToBeHiddenAsync();

        // Search by name, then filters by role and presence (their pages read by themselves).
        await adaPage.GetByLabel("Search people").FillAsync("car");
        await Expect(rows.Locator(".label")).ToHaveTextAsync(["Carol"]);
        await adaPage.GetByLabel("Search people").FillAsync("");
        await Expect(rows).ToHaveCountAsync(50);
        await adaPage.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("auditor");
        await Expect(rows.Locator(".label")).ToHaveTextAsync(["Dave"]);
        await adaPage.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("");
        await adaPage.GetByLabel("Presence", new() { Exact = true }).SelectOptionAsync("active");
        await Expect(rows.Locator(".label")).ToHaveTextAsync(["Ada", "Bob"]);
        await Expect(rows.Filter(new() { HasText = "Bob" }).Locator(".presence")).ToHaveAttributeAsync("data-status", "active");
        await ScreenshotAsync(adaPage, "people-directory");

        // "Message" opens a DM with that person.
        await adaPage.GetByLabel("Presence", new() { Exact = true }).SelectOptionAsync("");
        await adaPage.GetByLabel("Search people").FillAsync("carol");
        await rows.Filter(new() { HasText = "Carol" }).GetByRole(AriaRole.Button, new() { Name = "Message" }).ClickAsync();
        await Expect(adaPage.Locator("#channel-title")).ToHaveTextAsync("Carol");

        // The picker invites two people to #launch by name.
        await adaPage.Locator($"#sidebar [data-channel=\"{launch}\"]").ClickAsync();
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        var picker = adaPage.GetByLabel("Name or user id");
        await picker.FillAsync("bo");
        await adaPage.Locator("dialog .suggestion", new() { HasText = "Bob" }).ClickAsync();
        await picker.FillAsync("Dav");
        await adaPage.Locator("dialog .suggestion", new() { HasText = "Dave" }).ClickAsync();
        await Expect(adaPage.Locator("dialog .chip")).ToHaveTextAsync(["Bob✕", "Dave✕"]);
        await adaPage.Locator("dialog").GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        await Expect(adaPage.Locator(".pane-header .count")).ToHaveTextAsync("3 members");
        string[] expected = [.. new[] { ada.UserId, bob.UserId, dave.UserId }.Order(StringComparer.Ordinal)];
        await Eventually.Until(async () => (await ada.GetAsync($"/v1/channels/{launch}/members")).EnumerateArray()
                .Select(m => m.GetProperty("userId").GetString()!).Order(StringComparer.Ordinal).ToArray(),
            ids => ids.SequenceEqual(expected), TimeSpan.FromSeconds(20), "Bob and Dave in #launch");

        // A group DM from the picker (Enter picks the first suggestion): it opens, and both pages list it with the DMs.
        await adaPage.Locator("#sidebar").GetByRole(AriaRole.Button, new() { Name = "+ New" }).ClickAsync();
        var to = adaPage.GetByLabel("To (names or user ids)");
        foreach (var name in new[] { "Bob", "Carol", "Dave" })
        {
            await to.FillAsync(name);
            await Expect(adaPage.Locator("dialog .suggestion").First).ToContainTextAsync(name);
            await to.PressAsync("Enter");
        }
        await Expect(adaPage.Locator("dialog .chip")).ToHaveCountAsync(3);
        await adaPage.Locator("dialog").GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync();
        await Expect(adaPage.Locator("#channel-title")).ToHaveTextAsync("Bob, Carol, Dave");
        await adaPage.Locator("#composer").FillAsync("Hello group");
        await adaPage.Locator("#composer").PressAsync("Enter");

        var group = bobPage.Locator("#sidebar .channel", new() { HasText = "Ada, Carol, Dave" });
        await Expect(group.GetByTestId("unread-badge")).ToHaveTextAsync("1");
        await Expect(group.Locator(".group-count")).ToHaveTextAsync("4");
        await Expect(adaPage.Locator("#sidebar .channel", new() { HasText = "Bob, Carol, Dave" })).ToBeVisibleAsync();
        await Expect(adaPage.Locator("#sidebar .channel", new() { HasText = "Carol" })).ToHaveCountAsync(2); // the DM and the group DM
        await Eventually.Until(async () => (await carol.GetAsync($"/v1/workspaces/{ws}/channels")).EnumerateArray()
                .Where(c => c.GetProperty("kind").GetString() == "dm").Select(c => c.GetProperty("memberCount").GetInt32()).Order().ToArray(),
            counts => counts.SequenceEqual([2, 4]), TimeSpan.FromSeconds(20), "Carol's DM and group DM");
        await group.ClickAsync();
        await Expect(bobPage.Locator("#messages .msg .text")).ToHaveTextAsync(["Hello group"]);

        // An admin removes someone from the workspace in the directory (asked once more first); Bob gets no Remove.
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "People", Exact = true }).ClickAsync();
        await adaPage.GetByLabel("Search people").FillAsync("Member48");
        await Expect(rows.Locator(".label")).ToHaveTextAsync(["Member48"]);
        await rows.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await rows.GetByRole(AriaRole.Button, new() { Name = "Really remove?" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(0);
        await Eventually.Until(async () => (await bob.GetAsync($"/v1/workspaces/{ws}/members?q=Member48")).GetProperty("members").GetArrayLength(),
            count => count == 0, TimeSpan.FromSeconds(20), "Member48 removed");
        await bobPage.GetByRole(AriaRole.Button, new() { Name = "People", Exact = true }).ClickAsync();
        await Expect(bobPage.GetByTestId("directory-member")).ToHaveCountAsync(50);
        await Expect(bobPage.GetByTestId("directory-member").GetByRole(AriaRole.Button, new() { Name = "Remove" })).ToHaveCountAsync(0);
    }
}
