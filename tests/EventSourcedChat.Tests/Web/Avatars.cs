using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using SkiaSharp;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// Avatars on the page: the profile editor uploads a picture (with a preview of the centred square the server keeps) and
/// removes it; another person's page shows it live on the author's messages, in the channel header's members and on the
/// profile card, and the initials again once it is removed.
/// </summary>
public sealed class Avatars(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task A_picture_set_in_the_editor_shows_live_on_messages_members_and_the_card_and_its_removal_brings_back_the_initials()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var launch = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "launch" }, "channelId");
        await ada.PostAsync($"/v1/channels/{launch}/members", new { userId = bob.UserId });
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
        var adaOnBobsPage = Message(bobPage, "Morning all").Locator(".avatar");
        await Expect(adaOnBobsPage).ToHaveTextAsync("A"); // initials, no picture yet
        await Expect(adaOnBobsPage.Locator("img")).ToHaveCountAsync(0);

        // Ada chooses a wide picture (red, green, blue thirds): the preview is its green centre square; she saves.
        await adaPage.Locator(".me-box").GetByRole(AriaRole.Button, new() { Name = "Edit profile" }).ClickAsync();
        await adaPage.GetByLabel("Choose a picture").SetInputFilesAsync(new FilePayload
        {
            Name = "wide.png", MimeType = "image/png",
            Buffer = TestImages.Bands(300, 100, SKEncodedImageFormat.Png, SKColors.Red, SKColors.Lime, SKColors.Blue),
        });
        var preview = adaPage.GetByTestId("avatar-preview");
        await Expect(preview).ToBeVisibleAsync();
        var centre = await preview.EvaluateAsync<int[]>("c => [...c.getContext('2d').getImageData(48, 48, 1, 1).data]");
        Assert.True(centre[1] > 200 && centre[0] < 60 && centre[2] < 60, $"preview centre {string.Join(',', centre)}");
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(adaPage.Locator("dialog[open]")).ToHaveCountAsync(0);

        // Bob's page shows it on her message and in the header's members, loaded (72 px and 32 px WebP), without a reload.
        var picture = adaOnBobsPage.Locator("img.avatar-img");
        await Expect(picture).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        await Expect(picture).ToHaveJSPropertyAsync("naturalWidth", 72);
        var inHeader = bobPage.Locator(".people .person .avatar img.avatar-img");
        await Expect(inHeader).ToHaveCountAsync(1);
        await Expect(inHeader).ToHaveJSPropertyAsync("naturalWidth", 32);
        await Expect(Message(adaPage, "Morning all").Locator(".avatar img.avatar-img")).ToHaveCountAsync(1); // and on her own page

        // Her card on Bob's page: the 192 px picture.
        await Message(bobPage, "Morning all").Locator(".author").ClickAsync();
        var onCard = bobPage.GetByTestId("profile-card").GetByTestId("profile-avatar").Locator("img");
        await Expect(onCard).ToHaveJSPropertyAsync("naturalWidth", 192);
        await ScreenshotAsync(bobPage, "avatar-card");
        await bobPage.GetByTestId("profile-card").GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();

        // Ada removes it: the initials come back on Bob's page, live.
        await adaPage.Locator(".me-box").GetByRole(AriaRole.Button, new() { Name = "Edit profile" }).ClickAsync();
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Remove picture" }).ClickAsync();
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(adaOnBobsPage.Locator("img")).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        await Expect(adaOnBobsPage).ToHaveTextAsync("A");
        var profile = await bob.GetAsync($"/v1/users/{ada.UserId}");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, profile.GetProperty("avatarUrl").ValueKind);
    }

    private static ILocator Message(IPage page, string text) => page.Locator("#messages [data-testid=message]", new() { HasText = text });
}
