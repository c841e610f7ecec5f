using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// While the page is open but hidden: desktop notifications (the Notification API) for a mention and a DM, not for
/// other messages; the document title and the favicon carry the unread count. The browser context grants the
/// permission; an init script records each <c>new Notification</c> and lets the test hide the page
/// (<c>document.visibilityState</c>), which a headless browser otherwise never does.
/// </summary>
public sealed class Attention(PostgresFixture db) : BrowserTest(db)
{
    private const string InitScript = """
        window.__notifications = [];
        window.__hidden = false;
        const Real = window.Notification;
        window.Notification = class {
            static get permission() { return Real.permission; }
            static requestPermission(callback) { return Real.requestPermission(callback); }
            constructor(title, options) {
                this.title = title;
                window.__notifications.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' });
            }
            close() {}
        };
        Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get() { return window.__hidden ? 'hidden' : 'visible'; } });
        Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get() { return !!window.__hidden; } });
        """;

    [Fact]
    public async Task A_hidden_page_notifies_mentions_and_direct_messages_and_shows_the_unread_count_in_its_title_and_icon()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        await ada.PostAsync($"/v1/channels/{general}/members", new { userId = bob.UserId });
        var dm = await bob.PostAsync($"/v1/workspaces/{ws}/dms", new { userIds = new[] { ada.UserId } }, "channelId");

        var context = await Browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = 1280, Height = 800 }, Locale = "en-GB", TimezoneId = "UTC", Permissions = ["notifications"],
        });
        context.SetDefaultTimeout(20_000);
        await context.AddInitScriptAsync(InitScript);
        var page = await context.NewPageAsync();
        await page.GotoAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{general}\"]").ClickAsync();
        await Expect(page).ToHaveTitleAsync("#general");
        await Expect(page.Locator($"#sidebar [data-channel=\"{dm}\"]")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "🔔 Notifications" }).ClickAsync();
        await Expect(page.GetByTestId("desktop-status")).ToHaveTextAsync("Desktop notifications are on for mentions and DMs while this page is hidden.");
        await page.Locator("dialog[open]").GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        // Ada switches to another tab: her page is hidden. Bob writes a plain message, a mention and a DM.
        await SetHiddenAsync(page, true);
        await bob.PostMessageAsync(general!, "Lunch at noon?");
        await bob.PostMessageAsync(general!, $"<@{ada.UserId}> can you review the release notes?");
        await bob.PostMessageAsync(dm!, "Are you there?");

        await Expect(page).ToHaveTitleAsync("(3) #general");
        var icon = page.Locator("link[rel=icon]");
        await Expect(icon).ToHaveAttributeAsync("data-count", "3");
        Assert.StartsWith("data:image/svg+xml,", await icon.GetAttributeAsync("href"), StringComparison.Ordinal);
        Assert.Contains("%3E3%3C%2Ftext%3E", await icon.GetAttributeAsync("href"), StringComparison.Ordinal); // >3</text>
        await page.WaitForFunctionAsync("() => window.__notifications.length >= 2");
        var notes = (await page.EvaluateAsync<JsonElement>("() => window.__notifications")).EnumerateArray()
            .Select(n => (n.GetProperty("title").GetString(), n.GetProperty("body").GetString())).OrderBy(n => n.Item1).ToList();
        Assert.Equal(new List<(string?, string?)> { ("Bob", "Are you there?"), ("Bob in #general", "@Ada can you review the release notes?") }, notes);

        // Back on the page: the open channel is read, the DM is still unread; a mention now notifies nobody.
        await SetHiddenAsync(page, false);
        await Expect(page).ToHaveTitleAsync("(1) #general");
        await Expect(icon).ToHaveAttributeAsync("data-count", "1");
        await bob.PostMessageAsync(general!, $"<@{ada.UserId}> thanks!");
        await Expect(page.Locator("#messages [data-testid=message]", new() { HasText = "thanks!" })).ToBeVisibleAsync();
        await page.Locator($"#sidebar [data-channel=\"{dm}\"]").ClickAsync();
        await Expect(page).ToHaveTitleAsync("Bob");
        await Expect(icon).ToHaveAttributeAsync("href", "favicon.svg");
        Assert.Equal(2, await page.EvaluateAsync<int>("() => window.__notifications.length"));
    }

    private static Task SetHiddenAsync(IPage page, bool hidden) =>
        page.EvaluateAsync("hidden => { window.__hidden = hidden; document.dispatchEvent(new Event('visibilitychange')); }", hidden);
}
