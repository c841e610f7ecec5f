using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// A button pressed while something arriving re-renders its view (a message's unread count, a member joining) is still
/// clicked when it is released. A browser fires no click when the element pressed is replaced before the release, so
/// these tests hold the mouse down, make the view change, wait until the page shows the change, then release.
/// </summary>
public sealed class ClicksDuringUpdates(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task A_sidebar_button_held_down_while_an_unread_count_changes_opens_its_dialog_when_released()
    {
        var (node, ada, bob, _, _, random) = await TwoPeopleInTwoChannelsAsync();
        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await Expect(page.Locator($"#sidebar [data-channel=\"{random}\"]")).ToBeVisibleAsync();

        await PressAsync(page.GetByRole(AriaRole.Button, new() { Name = "🔔 Notifications" }));
        await bob.PostMessageAsync(random!, "news while Ada's finger is down");
        await Expect(page.Locator($"#sidebar [data-channel=\"{random}\"] [data-testid=unread-badge]")).ToHaveTextAsync("1");
        await page.Mouse.UpAsync();

        await Expect(page.Locator("dialog[open]").GetByRole(AriaRole.Heading, new() { Name = "Notifications" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_channel_held_down_in_the_sidebar_while_its_own_unread_count_appears_opens_when_released()
    {
        var (node, ada, bob, _, general, random) = await TwoPeopleInTwoChannelsAsync();
        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{general}\"]").ClickAsync();
        await Expect(page.Locator("#channel-title")).ToHaveTextAsync("#general");

        await PressAsync(page.Locator($"#sidebar [data-channel=\"{random}\"]"));
        await bob.PostMessageAsync(random!, "a first message in random");
        await Expect(page.Locator($"#sidebar [data-channel=\"{random}\"] [data-testid=unread-badge]")).ToHaveTextAsync("1");
        await page.Mouse.UpAsync();

        await Expect(page.Locator("#channel-title")).ToHaveTextAsync("#random");
        await Expect(page.GetByText("a first message in random")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_channel_header_button_held_down_while_a_member_joins_opens_its_dialog_when_released()
    {
        var (node, ada, _, ws, general, _) = await TwoPeopleInTwoChannelsAsync();
        var carol = await ApiUser.RegisterAsync(node, "Carol");
        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{general}\"]").ClickAsync();
        await Expect(page.Locator("#pane .pane-header .count")).ToHaveTextAsync("2 members");

        await PressAsync(page.Locator("#pane .pane-header").GetByRole(AriaRole.Button, new() { Name = "Invite" }));
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = carol.UserId });
        await ada.PostAsync($"/v1/channels/{general}/members", new { userId = carol.UserId });
        await Expect(page.Locator("#pane .pane-header .count")).ToHaveTextAsync("3 members");
        await page.Mouse.UpAsync();

        await Expect(page.Locator("dialog[open]")).ToHaveCountAsync(1);
    }

    /// <summary>Moves the mouse over the middle of <paramref name="target"/> and presses the button, without releasing it.</summary>
    private static async Task PressAsync(ILocator target)
    {
        await target.HoverAsync();
        await target.Page.Mouse.DownAsync();
    }

    private async Task<(WebHost Node, ApiUser Ada, ApiUser Bob, string? Workspace, string? General, string? Random)> TwoPeopleInTwoChannelsAsync()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        var random = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "random" }, "channelId");
        await ada.PostAsync($"/v1/channels/{general}/members", new { userId = bob.UserId });
        await ada.PostAsync($"/v1/channels/{random}/members", new { userId = bob.UserId });
        return (node, ada, bob, ws, general, random);
    }
}
