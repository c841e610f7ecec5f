using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>Pins on the page: pinned from one person's page, seen live (marker and pins panel) on another's.</summary>
public sealed class Pinning(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task A_message_pinned_on_one_page_shows_its_marker_and_joins_the_pins_panel_live_on_another()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var launch = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "launch" }, "channelId");
        await ada.PostAsync($"/v1/channels/{launch}/members", new { userId = bob.UserId });
        await ada.PostAsync($"/v1/channels/{launch}/messages", new { text = "Checklist is in the wiki" });
        await ada.PostAsync($"/v1/channels/{launch}/messages", new { text = "Launch window opens at nine" });

        var adaPage = await OpenPageAsync(node.Url.ToString());
        var bobPage = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(adaPage);
        await bob.LogInAsync(bobPage);
        foreach (var page in new[] { adaPage, bobPage })
        {
            await page.Locator($"#sidebar [data-channel=\"{launch}\"]").ClickAsync();
            await Expect(Message(page, "Launch window opens at nine")).ToBeVisibleAsync();
        }
        // Bob keeps the pins panel open: it starts empty.
        await bobPage.GetByRole(AriaRole.Button, new() { Name = "Pins" }).ClickAsync();
        await Expect(bobPage.Locator("#pins")).ToContainTextAsync("No pinned messages yet.");

        // Ada pins two messages from her page; Bob sees the markers and the panel, newest pin first, without reloading.
        foreach (var text in new[] { "Checklist is in the wiki", "Launch window opens at nine" })
        {
            var message = Message(adaPage, text);
            await message.HoverAsync();
            await message.GetByRole(AriaRole.Button, new() { Name = "Pin", Exact = true }).ClickAsync();
            await Expect(message.GetByTestId("pinned-marker")).ToBeVisibleAsync();
        }
        await Expect(Message(bobPage, "Launch window opens at nine").GetByTestId("pinned-marker")).ToHaveTextAsync("📌 Pinned");
        await Expect(Message(bobPage, "Checklist is in the wiki").GetByTestId("pinned-marker")).ToBeVisibleAsync();
        await Expect(bobPage.Locator("#pins [data-testid=pin] .text")).ToHaveTextAsync(["Launch window opens at nine", "Checklist is in the wiki"]);
        await Expect(bobPage.Locator("#pins [data-testid=pin]").First).ToContainTextAsync("Pinned by Ada");
        await ScreenshotAsync(bobPage, "pins-panel");

        // Bob unpins one from the panel; Ada's marker goes away live.
        await bobPage.Locator("#pins [data-testid=pin]", new() { HasText = "Checklist is in the wiki" })
            .GetByRole(AriaRole.Button, new() { Name = "Unpin" }).ClickAsync();
        await Expect(bobPage.Locator("#pins [data-testid=pin] .text")).ToHaveTextAsync(["Launch window opens at nine"]);
        await Expect(Message(adaPage, "Checklist is in the wiki").GetByTestId("pinned-marker")).ToHaveCountAsync(0);
        await Expect(Message(adaPage, "Launch window opens at nine").GetByTestId("pinned-marker")).ToBeVisibleAsync();
    }

    private static ILocator Message(IPage page, string text) => page.Locator("#messages [data-testid=message]", new() { HasText = text });
}
