using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// The threads view: the threads a person follows with their unread replies and mentions, counted live; a thread
/// opened from it is read; unfollowing and following again reach the API.
/// </summary>
public sealed class ThreadsView(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task Followed_threads_show_their_unread_replies_live_open_in_the_thread_panel_and_can_be_unfollowed()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        // The page opens the first channel by name, and opening #general would read its replies: it opens #announcements.
        await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "announcements" }, "channelId");
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        await ada.PostAsync($"/v1/channels/{general}/members", new { userId = bob.UserId });
        // Ada's thread (she follows it as its author once it has a reply), and Bob's, which she does not follow.
        var plan = await ada.PostMessageAsync(general!, "Release plan for Friday?");
        await bob.PostMessageAsync(general!, "Friday works for me", plan);
        await bob.PostMessageAsync(general!, $"<@{ada.UserId}> can you write the notes?", plan);
        var lunch = await bob.PostMessageAsync(general!, "Lunch anyone?");
        await bob.PostMessageAsync(general!, "Pizza place at noon", lunch);
        await bob.GetAsync($"/v1/workspaces/{ws}/threads"); // waits until the threads' read models have every post (Bob's are the last)

        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await Expect(page.GetByTestId("threads-badge")).ToHaveTextAsync("1");
        await page.GetByTestId("threads-entry").ClickAsync();
        await Expect(page.Locator("#channel-title")).ToHaveTextAsync("Threads");
        var items = page.GetByTestId("thread-item");
        await Expect(items).ToHaveCountAsync(1);
        var item = items.First;
        await Expect(item).ToContainTextAsync("Release plan for Friday?");
        await Expect(item).ToContainTextAsync("#general");
        await Expect(item.GetByTestId("thread-unread")).ToHaveTextAsync("2 new");
        await Expect(item.GetByTestId("thread-mentions")).ToHaveTextAsync("@1");
        await Expect(page.Locator("#pane")).Not.ToContainTextAsync("Lunch anyone?");

        // A reply while the view is shown counts at once.
        await bob.PostMessageAsync(general!, "Or Monday, if QA needs it", plan);
        await Expect(item.GetByTestId("thread-unread")).ToHaveTextAsync("3 new");
        await Expect(item).ToContainTextAsync("3 replies");
        await ScreenshotAsync(page, "threads-view");

        // Opening the thread shows it in its channel and reads it.
        await item.GetByRole(AriaRole.Button, new() { Name = "Open thread" }).ClickAsync();
        await Expect(page.Locator("#thread")).ToContainTextAsync("Or Monday, if QA needs it");
        await Expect(page.Locator("#channel-title")).ToHaveTextAsync("#general");
        await Expect(page.GetByTestId("threads-badge")).ToHaveCountAsync(0);
        await page.GetByTestId("threads-entry").ClickAsync();
        await Expect(items).ToHaveCountAsync(1);
        await Expect(item.GetByTestId("thread-unread")).ToHaveCountAsync(0);
        var thread = Assert.Single((await ada.GetAsync($"/v1/workspaces/{ws}/threads")).GetProperty("threads").EnumerateArray());
        Assert.Equal(0, thread.GetProperty("unreadReplies").GetInt64());

        // Unfollow, then follow again: the API follows each.
        await item.GetByRole(AriaRole.Button, new() { Name = "Unfollow" }).ClickAsync();
        await Expect(item.GetByRole(AriaRole.Button, new() { Name = "Follow", Exact = true })).ToBeVisibleAsync();
        await FollowedAsync(ada, ws!, 0);
        await item.GetByRole(AriaRole.Button, new() { Name = "Follow", Exact = true }).ClickAsync();
        await Expect(item.GetByRole(AriaRole.Button, new() { Name = "Unfollow" })).ToBeVisibleAsync();
        await FollowedAsync(ada, ws!, 1);
    }

    /// <summary>Waits (bounded) until the API lists <paramref name="count"/> followed threads for the user.</summary>
    private static Task<JsonElement> FollowedAsync(ApiUser user, string ws, int count) =>
        Eventually.Until(() => user.GetAsync($"/v1/workspaces/{ws}/threads"), page => page.GetProperty("threads").GetArrayLength() == count,
            TimeSpan.FromSeconds(15), $"{count} followed thread(s)");
}
