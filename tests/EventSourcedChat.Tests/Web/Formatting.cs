using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>Message formatting: the Markdown subset rendered in the page, the composer's shortcuts and preview, and no script from a message.</summary>
public sealed class Formatting(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task An_edit_in_progress_keeps_what_was_typed_and_the_selection_when_the_message_changes_under_it()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        await ada.PostAsync($"/v1/channels/{general}/members", new { userId = bob.UserId });
        await ada.PostAsync($"/v1/channels/{general}/messages", new { text = "first draft" });
        var seq = (await ada.GetAsync($"/v1/channels/{general}/messages")).GetProperty("messages")[0].GetProperty("seq").GetInt64();

        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{general}\"]").ClickAsync();
        var message = page.Locator("#messages .msg.mine").Last;
        await Expect(message.Locator(".text")).ToHaveTextAsync("first draft");
        await page.Locator("#composer").PressAsync("ArrowUp");
        var edit = page.GetByLabel("Edit message");
        await Expect(edit).ToBeFocusedAsync();
        await edit.PressAsync("End");
        await edit.PressSequentiallyAsync(" and more");
        await edit.EvaluateAsync("e => e.setSelectionRange(0, 5)");

        // Bob reacts while Ada edits: the message changes under her editor and is drawn again.
        var reacted = await bob.Http.PutAsync(new Uri($"/v1/channels/{general}/messages/{seq}/reactions/{Uri.EscapeDataString("👍")}", UriKind.Relative), null);
        Assert.True(reacted.IsSuccessStatusCode, $"reaction: {(int)reacted.StatusCode}");
        await Expect(message.Locator(".reaction")).ToHaveCountAsync(1);

        await Expect(edit).ToHaveValueAsync("first draft and more");
        await Expect(edit).ToBeFocusedAsync();
        Assert.Equal("0,5", await edit.EvaluateAsync<string>("e => `${e.selectionStart},${e.selectionEnd}`"));
    }

    [Fact]
    public async Task Formatted_text_renders_as_the_documented_subset_and_the_composer_helps_write_it()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        await ada.PostAsync($"/v1/channels/{general}/members", new { userId = bob.UserId });
        await bob.PostAsync($"/v1/channels/{general}/messages", new
        {
            text = $"**bold** _italic_ ~~strike~~ `a < b` [the docs](https://example.com/docs) <@{ada.UserId}> in <#{general}>\n\n"
                   + "> quoted words\n\n- one\n- two\n\n1. first\n2. second\n\n```js\nconst x = '<b>';\n```\n\n# not a heading ![no image](https://example.com/x.png)",
        });

        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{general}\"]").ClickAsync();
        var text = page.Locator("#messages .msg .text").Last;
        await Expect(text.Locator("strong")).ToHaveTextAsync("bold");
        await Expect(text.Locator("em")).ToHaveTextAsync("italic");
        await Expect(text.Locator("del")).ToHaveTextAsync("strike");
        await Expect(text.Locator("p code")).ToHaveTextAsync("a < b");
        var link = text.GetByRole(AriaRole.Link, new() { Name = "the docs" });
        await Expect(link).ToHaveTextAsync("the docs");
        await Expect(link).ToHaveAttributeAsync("href", "https://example.com/docs");
        await Expect(link).ToHaveAttributeAsync("target", "_blank");
        await Expect(link).ToHaveAttributeAsync("rel", "noopener noreferrer");
        await Expect(text.Locator(".mention.me")).ToHaveTextAsync("Ada");
        await Expect(text.Locator(".mention.channel-ref")).ToHaveTextAsync("#general");
        await Expect(text.Locator("blockquote")).ToHaveTextAsync("quoted words");
        await Expect(text.Locator("ul > li")).ToHaveTextAsync(["one", "two"]);
        await Expect(text.Locator("ol > li")).ToHaveTextAsync(["first", "second"]);
        await Expect(text.Locator("pre > code.language-js")).ToHaveTextAsync("const x = '<b>';");
        await Expect(text.Locator("p").Last).ToContainTextAsync("# not a heading");
        await Expect(text.Locator("h1, img, b")).ToHaveCountAsync(0);
        await ScreenshotAsync(page, "09-formatted-message");

        // Shortcuts wrap the selection; the preview shows what will be sent; Enter sends the Markdown as written.
        var composer = page.Locator("#composer");
        await composer.FillAsync("ship it");
        await composer.PressAsync("Control+a");
        await composer.PressAsync("Control+b");
        await Expect(composer).ToHaveValueAsync("**ship it**");
        await composer.PressAsync("End");
        await composer.PressSequentiallyAsync(" now");
        await composer.PressAsync("Shift+Home");
        await composer.PressAsync("Control+Shift+x");
        await Expect(composer).ToHaveValueAsync("~~**ship it** now~~");
        await composer.PressAsync("End");
        await composer.PressSequentiallyAsync(" then ");
        await page.GetByRole(AriaRole.Button, new() { Name = "Italic" }).First.ClickAsync();
        await composer.PressSequentiallyAsync("rest");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).First.ClickAsync();
        var preview = page.GetByTestId("preview").First;
        await Expect(preview.Locator("del strong")).ToHaveTextAsync("ship it");
        await Expect(preview.Locator("em")).ToHaveTextAsync("rest");
        await composer.PressAsync("Enter");
        await Expect(page.GetByTestId("pending-message")).ToHaveCountAsync(0);
        var mine = page.Locator("#messages .msg.mine .text").Last;
        await Expect(mine.Locator("del strong")).ToHaveTextAsync("ship it");
        await Expect(mine.Locator("em")).ToHaveTextAsync("rest");
        await Expect(preview).ToHaveTextAsync("Nothing to preview");
        var stored = await Eventually.Until(
            async () => (await bob.GetAsync($"/v1/channels/{general}/messages")).GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList(),
            list => list.Count == 2, what: "Ada's formatted message in the history");
        Assert.Equal("~~**ship it** now~~ then _rest_", stored[0]);

        // The inline editor edits the Markdown as written, with the same shortcuts.
        await composer.PressAsync("ArrowUp");
        var edit = page.GetByLabel("Edit message");
        await Expect(edit).ToHaveValueAsync("~~**ship it** now~~ then _rest_");
        await edit.PressAsync("Control+a");
        await edit.PressAsync("Control+e");
        await Expect(edit).ToHaveValueAsync("`~~**ship it** now~~ then _rest_`");
        await edit.PressAsync("Enter");
        await Expect(mine.Locator("code")).ToHaveTextAsync("~~**ship it** now~~ then _rest_");
    }

    [Fact]
    public async Task The_owasp_xss_filter_evasion_vectors_run_no_script()
    {
        var vectors = File.ReadAllLines(Path.Combine(RepositoryRoot, "tests", "EventSourcedChat.Tests", "Web", "xss-vectors.txt"))
            .Where(line => line.Trim().Length > 0 && !line.StartsWith("# ", StringComparison.Ordinal)).ToList();
        Assert.True(vectors.Count >= 40, $"{vectors.Count} vectors");
        var node = StartHost();
        var eve = await ApiUser.RegisterAsync(node, "Eve");
        var ws = await eve.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        var general = await eve.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        foreach (var vector in vectors)
        {
            await eve.PostAsync($"/v1/channels/{general}/messages", new { text = vector });
        }
        await eve.PostAsync($"/v1/channels/{general}/messages", new { text = "the last one" });

        // The page's CSP would block inline handlers anyway: bypass it, so what is tested is the renderer alone.
        var context = await Browser.NewContextAsync(new() { BypassCSP = true, ViewportSize = new() { Width = 1280, Height = 800 } });
        context.SetDefaultTimeout(20_000);
        await context.AddInitScriptAsync("window.__xss = 0; window.alert = window.confirm = window.prompt = () => { window.__xss++; };");
        var page = await context.NewPageAsync();
        var dialogs = 0;
        page.Dialog += async (_, dialog) => { dialogs++; await dialog.DismissAsync(); };
        await page.GotoAsync(node.Url.ToString());
        await eve.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{general}\"]").ClickAsync();
        await Expect(page.Locator("#messages .msg .text").Last).ToHaveTextAsync("the last one");
        await page.Locator("#messages").EvaluateAsync("list => list.scrollTop = 0");
        await Expect(page.Locator("#messages .msg .text")).ToHaveCountAsync(vectors.Count + 1);
        await Expect(page.Locator("#messages .msg .text").First).ToContainTextAsync("xss.js");
        await ScreenshotAsync(page, "10-xss-vectors-as-text");

        // A control payload outside the renderer proves that a handler would run, and that loads have had their time.
        await page.EvaluateAsync("""
            () => { window.__control = 0; const img = document.createElement('img');
                    img.setAttribute('onerror', 'window.__control = 1'); img.src = '/no-such-image.png'; document.body.append(img); }
            """);
        await page.WaitForFunctionAsync("() => window.__control === 1");
        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.__xss"));
        Assert.Equal(0, dialogs);

        var offenders = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('#messages .msg .text, #messages .msg .text *')].flatMap(el => {
                const bad = [];
                if (!['DIV', 'P', 'BR', 'STRONG', 'EM', 'DEL', 'CODE', 'PRE', 'A', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'SPAN'].includes(el.tagName)) bad.push(`<${el.tagName}>`);
                for (const a of el.attributes) {
                    if (/^on/i.test(a.name) || a.name === 'style' || a.name === 'src' || a.name === 'formaction') bad.push(`${el.tagName} ${a.name}`);
                    if (/^\s*(javascript|vbscript|data):/i.test(a.value)) bad.push(`${el.tagName} ${a.name}=${a.value}`);
                }
                if (el.tagName === 'A' && !(/^(https?:|mailto:)/i.test(el.getAttribute('href') ?? '') && el.rel === 'noopener noreferrer' && el.target === '_blank')) bad.push(`a ${el.outerHTML}`);
                return bad;
            })
            """);
        Assert.Empty(offenders);
    }
}
