using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// Channel settings on the page: an admin renames the channel, sets its topic, removes and adds members, archives and
/// unarchives it; a member (who gets no remove buttons) leaves it; each change shows on the other page live.
/// </summary>
public sealed class ChannelSettings(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task An_admin_renames_archives_and_manages_members_in_the_settings_and_a_member_leaves_from_them_live_on_both_pages()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var carol = await ApiUser.RegisterAsync(node, "Carol");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        foreach (var person in new[] { bob, carol })
        {
            await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = person.UserId });
        }
        var launch = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "launch" }, "channelId");
        foreach (var person in new[] { bob, carol })
        {
            await ada.PostAsync($"/v1/channels/{launch}/members", new { userId = person.UserId });
        }
        await ada.PostAsync($"/v1/channels/{launch}/messages", new { text = "Countdown soon" });

        var adaPage = await OpenPageAsync(node.Url.ToString());
        var bobPage = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(adaPage);
        await bob.LogInAsync(bobPage);
        foreach (var page in new[] { adaPage, bobPage })
        {
            await page.Locator($"#sidebar [data-channel=\"{launch}\"]").ClickAsync();
            await Expect(page.Locator("#messages .msg .text")).ToHaveTextAsync(["Countdown soon"]);
        }

        // Ada renames the channel and sets its topic: both pages show them.
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Channel settings" }).ClickAsync();
        var settings = adaPage.GetByTestId("channel-settings");
        await Expect(settings.Locator("h3")).ToHaveTextAsync("Members (3)");
        await settings.GetByLabel("Channel name").FillAsync("launch-day");
        await settings.GetByLabel("Topic").FillAsync("Friday, nine sharp");
        await settings.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(settings.GetByRole(AriaRole.Status).Filter(new() { HasText = "Saved." })).ToBeVisibleAsync();
        await Expect(adaPage.Locator("#channel-title")).ToHaveTextAsync("#launch-day");
        await Expect(bobPage.Locator("#channel-title")).ToHaveTextAsync("#launch-day");
        await Expect(bobPage.Locator(".pane-header .topic")).ToHaveTextAsync("Friday, nine sharp");

        // Ada removes Carol, then adds her back with the picker.
        await settings.GetByRole(AriaRole.Button, new() { Name = "Remove Carol" }).ClickAsync();
        await Expect(settings.Locator("h3")).ToHaveTextAsync("Members (2)");
        await Expect(settings.GetByTestId("settings-members").Locator(".label")).ToHaveTextAsync(["Ada", "Bob"]);
        await Eventually.Until(async () => (await carol.GetAsync($"/v1/channels/{launch}")).GetProperty("isMember").GetBoolean(),
            member => !member, TimeSpan.FromSeconds(20), "Carol removed");
        await settings.GetByLabel("Add people (name or user id)").FillAsync("car");
        await settings.Locator(".suggestion", new() { HasText = "Carol" }).ClickAsync();
        await settings.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Expect(settings.GetByTestId("settings-members").Locator(".label")).ToHaveTextAsync(["Ada", "Bob", "Carol"]);
        await ScreenshotAsync(adaPage, "channel-settings");

        // Archive and unarchive: the note, the disabled fields, and Bob's sidebar follow.
        await settings.GetByRole(AriaRole.Button, new() { Name = "Archive channel" }).ClickAsync();
        await Expect(settings.Locator(".archived-note")).ToBeVisibleAsync();
        await Expect(settings.GetByLabel("Topic")).ToBeDisabledAsync();
        var bobsLaunch = bobPage.Locator($"#sidebar [data-channel=\"{launch}\"]");
        await Expect(bobsLaunch.Locator(".label")).ToHaveTextAsync("launch-day (archived)");
        await Eventually.Until(async () => (await ada.GetAsync($"/v1/channels/{launch}")).GetProperty("archived").GetBoolean(),
            archived => archived, TimeSpan.FromSeconds(20), "#launch-day archived");
        await settings.GetByRole(AriaRole.Button, new() { Name = "Unarchive channel" }).ClickAsync();
        await Expect(settings.Locator(".archived-note")).ToBeHiddenAsync();
        await Expect(settings.GetByLabel("Topic")).ToBeEnabledAsync();
        await Expect(bobsLaunch.Locator(".label")).ToHaveTextAsync("launch-day");

        // Bob is no admin: his settings list the members without remove buttons; he leaves from them. Ada's open
        // settings show it.
        await bobPage.GetByRole(AriaRole.Button, new() { Name = "Channel settings" }).ClickAsync();
        var bobsSettings = bobPage.GetByTestId("channel-settings");
        await Expect(bobsSettings.Locator("h3")).ToHaveTextAsync("Members (3)");
        await Expect(bobsSettings.GetByRole(AriaRole.Button, new() { Name = "Remove" })).ToHaveCountAsync(0);
        await bobsSettings.GetByRole(AriaRole.Button, new() { Name = "Leave channel" }).ClickAsync();
        await Expect(bobsLaunch).ToHaveCountAsync(0);
        await Expect(settings.GetByTestId("settings-members").Locator(".label")).ToHaveTextAsync(["Ada", "Carol"]);
        await Eventually.Until(async () => (await bob.GetAsync($"/v1/channels/{launch}")).GetProperty("isMember").GetBoolean(),
            member => !member, TimeSpan.FromSeconds(20), "Bob left");
    }
}
