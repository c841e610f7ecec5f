using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// The notification preferences dialog: mail on or off, the digest delay, a do-not-disturb window, a snooze, and per
/// channel the level and mute, saved through the API and read back from it after a reload.
/// </summary>
public sealed class NotificationSettings(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task Preferences_set_in_the_dialog_are_stored_by_the_api_and_shown_again_after_a_reload()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        var random = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "random" }, "channelId");

        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await Expect(page.Locator($"#sidebar [data-channel=\"{random}\"]")).ToBeVisibleAsync();
        var dialog = await OpenPreferencesAsync(page);
        await Expect(dialog.GetByLabel("Email me about")).ToBeCheckedAsync(); // the defaults
        await Expect(dialog.GetByLabel("Notifications for #general")).ToHaveValueAsync("mentions");

        await dialog.GetByLabel("Email me about").UncheckAsync();
        await dialog.GetByLabel("Wait before emailing").FillAsync("30");
        await dialog.GetByLabel("Every day").CheckAsync();
        await dialog.GetByLabel("From", new() { Exact = true }).FillAsync("22:30");
        await dialog.GetByLabel("To", new() { Exact = true }).FillAsync("07:15");
        await dialog.GetByLabel("Time zone").FillAsync("Europe/Paris");
        await dialog.GetByLabel("Snooze").SelectOptionAsync("60");
        await dialog.GetByLabel("Notifications for #general").SelectOptionAsync("none");
        await dialog.GetByLabel("Notifications for #random").SelectOptionAsync("all");
        await dialog.GetByLabel("Mute #random").CheckAsync();
        var saved = DateTimeOffset.UtcNow;
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("dialog[open]")).ToHaveCountAsync(0);

        // The API has every value.
        var prefs = await ada.GetAsync("/v1/users/me/notifications");
        Assert.False(prefs.GetProperty("email").GetBoolean());
        Assert.Equal(30, prefs.GetProperty("digestMinutes").GetInt32());
        var dnd = prefs.GetProperty("dnd");
        Assert.Equal(("22:30", "07:15", "Europe/Paris"),
            (dnd.GetProperty("from").GetString(), dnd.GetProperty("to").GetString(), dnd.GetProperty("timeZone").GetString()));
        var snooze = prefs.GetProperty("snoozeUntil").GetDateTimeOffset();
        Assert.InRange(snooze, saved.AddMinutes(59), saved.AddMinutes(61));
        var channels = prefs.GetProperty("channels").EnumerateArray()
            .ToDictionary(c => c.GetProperty("channelId").GetString()!, c => (c.GetProperty("level").GetString(), c.GetProperty("muted").GetBoolean()));
        Assert.Equal(2, channels.Count);
        Assert.Equal(("none", false), channels[general!]);
        Assert.Equal(("all", true), channels[random!]);

        // After a reload the dialog shows what the API holds.
        await page.ReloadAsync();
        await Expect(page.Locator($"#sidebar [data-channel=\"{random}\"]")).ToBeVisibleAsync();
        dialog = await OpenPreferencesAsync(page);
        await Expect(dialog.GetByLabel("Email me about")).Not.ToBeCheckedAsync();
        await Expect(dialog.GetByLabel("Wait before emailing")).ToHaveValueAsync("30");
        await Expect(dialog.GetByLabel("Every day")).ToBeCheckedAsync();
        await Expect(dialog.GetByLabel("From", new() { Exact = true })).ToHaveValueAsync("22:30");
        await Expect(dialog.GetByLabel("To", new() { Exact = true })).ToHaveValueAsync("07:15");
        await Expect(dialog.GetByLabel("Time zone")).ToHaveValueAsync("Europe/Paris");
        await Expect(dialog.GetByLabel("Snooze")).ToHaveValueAsync("keep");
        await Expect(dialog.GetByLabel("Snooze").Locator("option:checked")).ToContainTextAsync("Snoozed until");
        await Expect(dialog.GetByLabel("Notifications for #general")).ToHaveValueAsync("none");
        await Expect(dialog.GetByLabel("Notifications for #random")).ToHaveValueAsync("all");
        await Expect(dialog.GetByLabel("Mute #general")).Not.ToBeCheckedAsync();
        await Expect(dialog.GetByLabel("Mute #random")).ToBeCheckedAsync();
        await ScreenshotAsync(page, "notification-settings");

        // The snooze and the window are cleared again; the rest stays.
        await dialog.GetByLabel("Snooze").SelectOptionAsync(new SelectOptionValue { Label = "Not snoozed" });
        await dialog.GetByLabel("Every day").UncheckAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator("dialog[open]")).ToHaveCountAsync(0);
        prefs = await ada.GetAsync("/v1/users/me/notifications");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, prefs.GetProperty("dnd").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, prefs.GetProperty("snoozeUntil").ValueKind);
        Assert.False(prefs.GetProperty("email").GetBoolean());
        Assert.Equal(2, prefs.GetProperty("channels").GetArrayLength());
    }

    private static async Task<ILocator> OpenPreferencesAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "🔔 Notifications" }).ClickAsync();
        var dialog = page.Locator("dialog[open]");
        await Expect(dialog.GetByRole(AriaRole.Heading, new() { Name = "Notifications" })).ToBeVisibleAsync();
        return dialog;
    }
}
