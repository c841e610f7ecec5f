using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>The page against history and people that another client (the REST API) produced.</summary>
public sealed class Conversations(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task Scrolling_up_loads_older_pages_until_the_beginning_with_each_message_once_in_order()
    {
        var node = StartHost();
        var ada = await ApiUserAsync(node, "Ada");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        for (var i = 1; i <= 120; i++)
        {
            await ada.PostAsync($"/v1/channels/{general}/messages", new { text = $"Message {i}" });
        }

        var page = await OpenPageAsync(node.Url.ToString());
        await LogInAsync(page, ada);
        var texts = page.Locator("#messages .msg .text");
        await Expect(texts).ToHaveCountAsync(50);
        await Expect(texts.Last).ToHaveTextAsync("Message 120");
        await Expect(texts.Last).ToBeInViewportAsync();

        await page.Locator("#messages").EvaluateAsync("list => list.scrollTop = 0");
        await Expect(texts).ToHaveCountAsync(100);
        await Expect(texts.First).ToHaveTextAsync("Message 21");
        await page.Locator("#messages").EvaluateAsync("list => list.scrollTop = 0");
        await Expect(texts).ToHaveTextAsync(Enumerable.Range(1, 120).Select(i => $"Message {i}").ToArray());
        await Expect(page.Locator("#messages .start")).ToHaveTextAsync("This is the very beginning of #general.");
        await Expect(page.Locator("#messages .day")).ToHaveTextAsync(["Today"]);
    }

    [Fact]
    public async Task A_direct_message_and_a_mention_from_someone_else_raise_live_badges_that_clear_when_read()
    {
        var node = StartHost();
        var ada = await ApiUserAsync(node, "Ada");
        var bob = await ApiUserAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        var random = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "random" }, "channelId");
        await ada.PostAsync($"/v1/channels/{random}/members", new { userId = bob.UserId });

        var page = await OpenPageAsync(node.Url.ToString());
        await LogInAsync(page, ada);
        await page.Locator($"#sidebar [data-channel=\"{general}\"]").ClickAsync();
        await Expect(page.Locator("#channel-title")).ToHaveTextAsync("#general");

        // Bob opens a DM with Ada and writes: the DM appears under his name with an unread badge.
        var dm = await bob.PostAsync($"/v1/workspaces/{ws}/dms", new { userIds = new[] { ada.UserId } }, "channelId");
        await bob.PostAsync($"/v1/channels/{dm}/messages", new { text = "psst" });
        var dmButton = page.Locator($"#sidebar [data-channel=\"{dm}\"]");
        await Expect(dmButton.Locator(".label")).ToHaveTextAsync("Bob");
        await Expect(dmButton.GetByTestId("unread-badge")).ToHaveTextAsync("1");

        // A mention in another channel: unread and mention badges.
        await bob.PostAsync($"/v1/channels/{random}/messages", new { text = $"<@{ada.UserId}> look at this" });
        var randomButton = page.Locator($"#sidebar [data-channel=\"{random}\"]");
        await Expect(randomButton.GetByTestId("mention-badge")).ToHaveTextAsync("@1");
        await Expect(randomButton.GetByTestId("unread-badge")).ToHaveTextAsync("1");
        await ScreenshotAsync(page, "08-dm-and-mention-badges");

        await dmButton.ClickAsync();
        await Expect(page.Locator("#messages .msg .text")).ToHaveTextAsync(["psst"]);
        await Expect(dmButton.GetByTestId("unread-badge")).ToHaveCountAsync(0);
        await page.Locator("#composer").FillAsync("hi Bob");
        await page.Locator("#composer").PressAsync("Enter");
        await Expect(page.GetByTestId("pending-message")).ToHaveCountAsync(0);

        await randomButton.ClickAsync();
        await Expect(page.Locator("#messages .msg .mention.me")).ToHaveTextAsync("Ada");
        await Expect(randomButton.GetByTestId("mention-badge")).ToHaveCountAsync(0);

        // What the page sent and read is what the API holds.
        var texts = await Eventually.Until(
            async () => (await bob.GetAsync($"/v1/channels/{dm}/messages")).GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList(),
            list => list.Count == 2, what: "Ada's reply in the DM's history");
        Assert.Equal(["hi Bob", "psst"], texts);
        await Eventually.Until(
            async () => string.Join(", ", (await ada.GetAsync($"/v1/workspaces/{ws}/channels")).EnumerateArray()
                .Select(c => $"{c.GetProperty("name").GetString()}/{c.GetProperty("kind").GetString()}: {c.GetProperty("unreadCount").GetInt32()}")),
            counts => !counts.Contains(": 1", StringComparison.Ordinal) && !counts.Contains(": 2", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), "Ada's read markers to clear every unread count");
    }
}
