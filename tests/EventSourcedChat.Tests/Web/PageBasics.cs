using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>The page itself: its headers, keyboard use, and a phone-sized screen.</summary>
public sealed class PageBasics(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task The_page_is_served_at_the_root_with_a_strict_content_security_policy_that_it_never_violates()
    {
        var node = StartHost();
        using var http = new HttpClient { BaseAddress = node.Url };

        var page = await http.GetAsync("/");
        var script = await http.GetAsync("/app.js");

        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script type=\"module\" src=\"app.js\"></script>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var csp = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(page.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(page.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);

        // The whole sign-up-to-first-message path runs without one blocked load or script error.
        var browserPage = await OpenPageAsync(node.Url.ToString());
        var problems = new List<string>();
        browserPage.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.Ordinal) || m.Text.Contains("Refused", StringComparison.Ordinal))
            {
                problems.Add(m.Text);
            }
        };
        browserPage.PageError += (_, e) => problems.Add(e);
        await SignUpAsync(browserPage, "Ada");
        await CreateWorkspaceAndChannelAsync(browserPage);
        await browserPage.Locator("#composer").FillAsync("Hello");
        await browserPage.Locator("#composer").PressAsync("Enter");
        await Expect(browserPage.Locator("#messages .msg .text")).ToHaveTextAsync(["Hello"]);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Logging_out_revokes_the_token_on_the_server()
    {
        var node = StartHost();
        var page = await OpenPageAsync(node.Url.ToString());
        await SignUpAsync(page, "Ada");
        var token = await page.EvaluateAsync<string>("() => JSON.parse(localStorage.getItem('esc.session')).token");
        using var http = new HttpClient { BaseAddress = node.Url };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/v1/workspaces")).StatusCode);

        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).First.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).WaitForAsync();

        Assert.Null(await page.EvaluateAsync<string?>("() => localStorage.getItem('esc.session')"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/workspaces")).StatusCode);
    }

    [Fact]
    public async Task The_main_flow_works_with_the_keyboard_alone()
    {
        var node = StartHost();
        var page = await OpenPageAsync(node.Url.ToString());

        // The log-in form opens with the email field focused; the sign-up link is a few Tabs away.
        await Expect(page.GetByLabel("Email")).ToBeFocusedAsync();
        await TabToAsync(page, "Create an account");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByLabel("Display name")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("Ada");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync($"ada-{Guid.NewGuid():N}@example.test");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync("correct horse battery");
        await page.Keyboard.PressAsync("Enter");

        await Expect(page.GetByLabel("Workspace name")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("Acme");
        await page.Keyboard.PressAsync("Enter");

        // Create a channel from the sidebar: the dialog opens on its first field and Enter submits it.
        await Expect(page.Locator("#workspace")).ToBeVisibleAsync();
        await TabToAsync(page, "+ Create");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByLabel("Name")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("general");
        await page.Keyboard.PressAsync("Enter");

        // The composer has the focus in the new channel: Enter sends, ArrowUp edits my last message.
        await Expect(page.Locator("#composer")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("Hello keyboard");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#messages .msg .text")).ToHaveTextAsync(["Hello keyboard"]);
        await Expect(page.GetByTestId("pending-message")).ToHaveCountAsync(0);
        await page.Keyboard.PressAsync("ArrowUp");
        await Expect(page.Locator("textarea.edit")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(", edited");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#messages .msg .text")).ToHaveTextAsync(["Hello keyboard, edited"]);
        await Expect(page.Locator("#messages .msg .edited")).ToHaveTextAsync("(edited)");

        // Ctrl+K searches; the first result has the focus and Enter jumps to the message.
        await page.Keyboard.PressAsync("Control+k");
        await Expect(page.Locator("#search")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("keyboard");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByTestId("search-result").First).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#messages .msg.flash")).ToBeFocusedAsync();
    }

    [Fact]
    public async Task At_phone_size_the_channels_are_a_drawer_and_nothing_overflows_sideways()
    {
        var node = StartHost();
        var page = await OpenPageAsync(node.Url.ToString(), width: 390, height: 844);
        await SignUpAsync(page, "Ada");
        await Expect(page.Locator(".card")).ToBeInViewportAsync();
        await page.GetByLabel("Workspace name").FillAsync("Acme");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();

        var menu = page.GetByRole(AriaRole.Button, new() { Name = "Show channels" });
        await Expect(page.Locator("#sidebar")).Not.ToBeInViewportAsync();
        await menu.ClickAsync();
        await Expect(page.Locator("#sidebar")).ToBeInViewportAsync(new() { Ratio = 1 });
        await page.GetByRole(AriaRole.Button, new() { Name = "+ Create" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("general");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(page.Locator("#channel-title")).ToHaveTextAsync("#general");
        await Expect(page.Locator("dialog[open]")).ToHaveCountAsync(0); // modal until the channel has opened
        await Expect(page.Locator("#sidebar")).Not.ToBeInViewportAsync();

        await page.Locator("#composer").FillAsync("A long line that has to wrap on a phone screen instead of pushing the page sideways");
        await page.Locator("#composer").PressAsync("Enter");
        await Expect(page.Locator("#messages .msg .text")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("pending-message")).ToHaveCountAsync(0);
        await Expect(page.Locator("#composer")).ToBeInViewportAsync(new() { Ratio = 1 });
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways");
        await ScreenshotAsync(page, "07-phone");
    }

    private static async Task CreateWorkspaceAndChannelAsync(IPage page)
    {
        await page.GetByLabel("Workspace name").FillAsync("Acme");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "+ Create" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("general");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(page.Locator("#channel-title")).ToHaveTextAsync("#general");
        // The dialog is modal until the channel has opened (its history loaded): until then the page behind it takes no
        // typing, and keys sent to the composer were lost (seen: "Hello" never posted).
        await Expect(page.Locator("dialog[open]")).ToHaveCountAsync(0);
    }

    /// <summary>Presses Tab until the focused element's text is <paramref name="text"/> (at most 40 times).</summary>
    private static async Task TabToAsync(IPage page, string text)
    {
        for (var i = 0; i < 40; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var focused = await page.EvaluateAsync<string>("() => (document.activeElement?.textContent ?? '').trim()");
            if (focused == text)
            {
                return;
            }
        }
        Assert.Fail($"\"{text}\" cannot be reached with Tab");
    }
}
