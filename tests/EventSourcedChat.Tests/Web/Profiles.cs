using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// Profiles on the page: a card on a click on an author's name, the editor of one's own profile and status, names and
/// status badges changed live on another person's page, and a status that disappears at its expiry without a reload.
/// </summary>
public sealed class Profiles(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task A_profile_card_opens_on_a_name_and_an_edit_shows_live_on_another_page_until_the_status_expires()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var launch = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "launch" }, "channelId");
        await ada.PostAsync($"/v1/channels/{launch}/members", new { userId = bob.UserId });
        await bob.SendAsync(HttpMethod.Patch, "/v1/users/me", new { title = "Release manager", timeZone = "Asia/Tokyo" });
        await bob.PostAsync($"/v1/channels/{launch}/messages", new { text = "Shipping at five" });
        await ada.PostAsync($"/v1/channels/{launch}/messages", new { text = "Morning all" });

        var adaPage = await OpenPageAsync(node.Url.ToString());
        var bobPage = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(adaPage);
        await bob.LogInAsync(bobPage);
        foreach (var page in new[] { adaPage, bobPage })
        {
            await page.Locator($"#sidebar [data-channel=\"{launch}\"]").ClickAsync();
            await Expect(Message(page, "Morning all")).ToBeVisibleAsync();
        }

        // Ada opens Bob's card from his name on his message.
        await Message(adaPage, "Shipping at five").Locator(".author").ClickAsync();
        var card = adaPage.GetByTestId("profile-card");
        await Expect(card.Locator("h2")).ToHaveTextAsync("Bob");
        await Expect(card.GetByTestId("profile-title")).ToHaveTextAsync("Release manager");
        await Expect(card.GetByTestId("profile-time")).ToContainTextAsync("(Asia/Tokyo)");
        await Expect(card.GetByRole(AriaRole.Button, new() { Name = "Edit profile" })).ToHaveCountAsync(0);
        await card.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();

        // Ada edits her own profile and status; Bob's page shows the new name and the status badge without reloading.
        await adaPage.Locator(".me-box").GetByRole(AriaRole.Button, new() { Name = "Edit profile" }).ClickAsync();
        await adaPage.GetByLabel("Display name", new() { Exact = true }).FillAsync("Ada Lovelace");
        await adaPage.GetByLabel("Title", new() { Exact = true }).FillAsync("Analyst");
        await adaPage.GetByLabel("Emoji", new() { Exact = true }).FillAsync("🌴");
        await adaPage.GetByLabel("Text", new() { Exact = true }).FillAsync("On holiday");
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(adaPage.Locator(".me-box .me-name")).ToHaveTextAsync("Ada Lovelace");
        var adaOnBobsPage = Message(bobPage, "Morning all");
        await Expect(adaOnBobsPage.Locator(".author")).ToHaveTextAsync("Ada Lovelace");
        await Expect(adaOnBobsPage.Locator(".user-status")).ToHaveTextAsync("🌴");
        await adaOnBobsPage.Locator(".author").ClickAsync();
        await Expect(bobPage.GetByTestId("profile-card").GetByTestId("profile-status")).ToContainTextAsync("On holiday");
        await Expect(bobPage.GetByTestId("profile-card").GetByTestId("profile-title")).ToHaveTextAsync("Analyst");
        await Expect(bobPage.GetByTestId("profile-card").GetByTestId("profile-time")).ToHaveCountAsync(0); // Ada has no time zone
        await Expect(bobPage.GetByTestId("profile-card")).Not.ToContainTextAsync("null");
        await ScreenshotAsync(bobPage, "profile-card");
        await bobPage.GetByTestId("profile-card").GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();

        // Bob sets a status that expires in a few seconds: Ada's page shows it, then hides it at its expiry, by itself.
        await bob.SendAsync(HttpMethod.Put, "/v1/users/me/status", new { emoji = "☕", text = "Back soon", expiresAt = DateTimeOffset.UtcNow.AddSeconds(10) });
        var bobOnAdasPage = Message(adaPage, "Shipping at five").Locator(".user-status");
        await Expect(bobOnAdasPage).ToHaveTextAsync("☕", new() { Timeout = 9_000 });
        await Expect(bobOnAdasPage).ToHaveTextAsync("", new() { Timeout = 30_000 });
    }

    private static ILocator Message(IPage page, string text) => page.Locator("#messages [data-testid=message]", new() { HasText = text });
}
