using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// Two people, each in their own browser context and on their own Gateway node, use the page for everything a
/// newcomer does first; then Ada's node is restarted mid-conversation.
/// </summary>
public sealed class Chatting(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task Two_people_chat_in_real_time_and_a_restarted_server_resumes_the_page_with_every_message_once_in_order()
    {
        var adaNode = StartHost();
        var bobNode = StartHost();
        var ada = await OpenPageAsync(adaNode.Url.ToString());
        var bob = await OpenPageAsync(bobNode.Url.ToString());

        // Sign up; Ada creates the workspace and a channel, adds Bob by the user id his page shows, invites him.
        await SignUpAsync(ada, "Ada");
        var bobId = await SignUpAsync(bob, "Bob");
        await ScreenshotAsync(bob, "01-new-user");
        await ada.GetByLabel("Workspace name").FillAsync("Acme");
        await ada.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();
        await ada.GetByRole(AriaRole.Button, new() { Name = "Add people to workspace" }).ClickAsync();
        await ada.GetByLabel("User id").FillAsync(bobId);
        await ada.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await ada.GetByRole(AriaRole.Button, new() { Name = "+ Create" }).ClickAsync();
        await ada.GetByLabel("Name").FillAsync("launch");
        await ada.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(ada.Locator("#channel-title")).ToHaveTextAsync("#launch");
        await ada.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        await ada.GetByLabel("User id").FillAsync(bobId);
        await ada.Locator("dialog").GetByRole(AriaRole.Button, new() { Name = "Invite" }).ClickAsync();

        // Bob's page picks up the workspace and the channel by itself.
        await Channel(bob, "launch").ClickAsync();
        await Expect(bob.Locator("#channel-title")).ToHaveTextAsync("#launch");

        // Presence and typing.
        await Expect(ada.Locator(".pane-header .person", new() { HasText = "Bob" }).Locator(".presence")).ToHaveAttributeAsync("data-status", "active");
        await bob.Locator("#composer").PressSequentiallyAsync("Hi Ada");
        await Expect(ada.Locator("#typing")).ToHaveTextAsync("Bob is typing…");

        // Chat both ways.
        await bob.Locator("#composer").PressAsync("Enter");
        await Expect(ada.Locator("#typing")).ToHaveTextAsync("");
        await Expect(Texts(ada)).ToHaveTextAsync(["Hi Ada"]);
        await SendAsync(ada, "The rocket launches Friday");
        await Expect(Texts(bob)).ToHaveTextAsync(["Hi Ada", "The rocket launches Friday"]);

        // A thread, live on both sides.
        var rocket = Message(bob, "The rocket launches Friday");
        await rocket.HoverAsync();
        await rocket.GetByRole(AriaRole.Button, new() { Name = "Reply" }).ClickAsync();
        await SendAsync(bob, "Which time?", "#thread-composer");
        await Message(ada, "The rocket launches Friday").GetByRole(AriaRole.Button, new() { Name = "1 reply" }).ClickAsync();
        await Expect(ada.Locator("#thread [data-testid=message] .text")).ToHaveTextAsync(["The rocket launches Friday", "Which time?"]);
        await SendAsync(ada, "Nine sharp", "#thread-composer");
        await Expect(bob.Locator("#thread [data-testid=message] .text")).ToHaveTextAsync(["The rocket launches Friday", "Which time?", "Nine sharp"]);
        await Expect(Message(bob, "The rocket launches Friday").GetByRole(AriaRole.Button, new() { Name = "2 replies" })).ToBeVisibleAsync();

        // A reaction.
        var hi = Message(ada, "Hi Ada");
        await hi.HoverAsync();
        await hi.GetByRole(AriaRole.Button, new() { Name = "Add reaction" }).ClickAsync();
        await hi.GetByRole(AriaRole.Button, new() { Name = "React 👍" }).ClickAsync();
        await Expect(Message(bob, "Hi Ada").Locator(".reaction")).ToHaveTextAsync("👍 1");
        await ScreenshotAsync(ada, "02-channel-with-thread");

        // The unread badge rises while Bob looks at another channel, and clears when he opens #launch.
        await bob.GetByRole(AriaRole.Button, new() { Name = "+ Create" }).ClickAsync();
        await bob.GetByLabel("Name").FillAsync("notes");
        await bob.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(bob.Locator("#channel-title")).ToHaveTextAsync("#notes");
        await ada.GetByRole(AriaRole.Button, new() { Name = "Close thread" }).ClickAsync();
        await SendAsync(ada, "Countdown starts at eight");
        await Expect(Channel(bob, "launch").GetByTestId("unread-badge")).ToHaveTextAsync("1");
        await SendAsync(ada, "Bring snacks");
        await Expect(Channel(bob, "launch").GetByTestId("unread-badge")).ToHaveTextAsync("2");
        await ScreenshotAsync(bob, "03-unread-badge");
        await Channel(bob, "launch").ClickAsync();
        await Expect(Channel(bob, "launch").GetByTestId("unread-badge")).ToHaveCountAsync(0);

        // Edit and delete, seen live by the other side.
        var countdown = Message(ada, "Countdown starts at eight");
        await countdown.HoverAsync();
        await countdown.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await ada.Locator("textarea.edit").FillAsync("Countdown starts at nine");
        await ada.Locator("textarea.edit").PressAsync("Enter");
        await Expect(Message(bob, "Countdown starts at nine").Locator(".edited")).ToHaveTextAsync("(edited)");
        var snacks = Message(ada, "Bring snacks");
        await snacks.HoverAsync();
        await snacks.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await snacks.GetByRole(AriaRole.Button, new() { Name = "Really delete?" }).ClickAsync();
        await Expect(Texts(bob)).ToHaveTextAsync(["Hi Ada", "The rocket launches Friday", "Countdown starts at nine", "This message was deleted."]);

        // Search, and a result jumps to its message.
        await bob.Locator("#search").FillAsync("rocket");
        await bob.Locator("#search").PressAsync("Enter");
        await Expect(bob.GetByTestId("search-result")).ToHaveCountAsync(1);
        await ScreenshotAsync(bob, "04-search");
        await bob.GetByTestId("search-result").ClickAsync();
        await Expect(bob.Locator("#messages .msg.flash")).ToContainTextAsync("The rocket launches Friday");
        await Expect(bob.Locator("#messages .msg.flash")).ToBeFocusedAsync();

        // Ada's server goes down mid-conversation: her page says so, Bob keeps talking, Ada's send fails visibly.
        var port = adaNode.Port;
        await adaNode.DisposeAsync();
        await Expect(ada.Locator("#banner")).ToHaveAttributeAsync("data-state", "reconnecting");
        await Expect(ada.Locator("#banner")).ToHaveTextAsync("Connection lost. Reconnecting…");
        foreach (var text in new[] { "Missed one", "Missed two", "Missed three" })
        {
            await SendAsync(bob, text);
        }
        await SendAsync(ada, "Sent while the server was down");
        await Expect(ada.GetByRole(AriaRole.Button, new() { Name = "Retry" })).ToBeVisibleAsync();
        await ScreenshotAsync(ada, "05-reconnecting-with-a-failed-send");

        // The server is back on the same address: the page resumes from the last position it saw, without a reload.
        StartHost(port);
        await Expect(ada.Locator("#banner")).ToHaveAttributeAsync("data-state", "resumed", new() { Timeout = 60_000 });
        string[] missed = ["Hi Ada", "The rocket launches Friday", "Countdown starts at nine", "This message was deleted.", "Missed one", "Missed two", "Missed three"];
        await Expect(Texts(ada)).ToHaveTextAsync([.. missed, "Sent while the server was down"]);
        // Bob answers once Ada's retried message is stored (Retry only starts the post; until it is answered, Bob's reply
        // could be appended first and both pages would rightly show it first).
        await ada.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(ada.GetByTestId("pending-message")).ToHaveCountAsync(0);
        await Expect(Texts(bob)).ToHaveTextAsync([.. missed, "Sent while the server was down"]);
        await SendAsync(bob, "Welcome back");
        string[] all = [.. missed, "Sent while the server was down", "Welcome back"];
        await Expect(Texts(ada)).ToHaveTextAsync(all);
        await Expect(Texts(bob)).ToHaveTextAsync(all);
        await Expect(ada.GetByTestId("pending-message")).ToHaveCountAsync(0);
        await ScreenshotAsync(ada, "06-resumed");

        // A reload rebuilds the same conversation from the API: the retried message was stored once.
        await ada.ReloadAsync();
        await Expect(Texts(ada)).ToHaveTextAsync(all);
        await Expect(ada.Locator("#banner")).ToBeHiddenAsync();
        await Expect(Channel(ada, "launch").GetByTestId("unread-badge")).ToHaveCountAsync(0);
        await ScreenshotAsync(ada, "web-client");
    }

    private static ILocator Channel(IPage page, string name) => page.Locator($"#sidebar [data-name=\"{name}\"]");

    private static ILocator Message(IPage page, string text) => page.Locator("#messages [data-testid=message]", new() { HasText = text });

    /// <summary>The texts of the channel's messages as shown, top to bottom (pending ones included).</summary>
    private static ILocator Texts(IPage page) => page.Locator("#messages .msg .text");

    private static async Task SendAsync(IPage page, string text, string composer = "#composer")
    {
        await page.Locator(composer).FillAsync(text);
        await page.Locator(composer).PressAsync("Enter");
    }
}
