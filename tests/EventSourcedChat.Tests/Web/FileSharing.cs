using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// Files on the page (the embedded store): attached by paste, by the 📎 button and by drag and drop, uploaded with a
/// progress bar that can be cancelled, posted with the message, and shown on another person's page as an image preview
/// (a lightbox on click) or a file card, both downloadable through URLs read when needed.
/// </summary>
public sealed partial class FileSharing(PostgresFixture db) : BrowserTest(db)
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task A_pasted_image_and_a_file_from_the_button_show_on_another_page_as_a_preview_with_a_lightbox_and_a_card_that_download()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var design = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "design" }, "channelId");
        await ada.PostAsync($"/v1/channels/{design}/members", new { userId = bob.UserId });
        await bob.PostAsync($"/v1/channels/{design}/messages", new { text = "Morning! The **launch** review is at _ten_, notes in `docs/launch.md`:\n- mockups\n- the plan" });

        var adaPage = await OpenPageAsync(node.Url.ToString());
        var bobPage = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(adaPage);
        await bob.LogInAsync(bobPage);
        foreach (var page in new[] { adaPage, bobPage })
        {
            await page.Locator($"#sidebar [data-channel=\"{design}\"]").ClickAsync();
            await Expect(Message(page, "Morning!")).ToBeVisibleAsync();
        }

        // Ada pastes an image (drawn on a canvas in her page) into the composer, then writes about it and sends.
        await adaPage.Locator("#composer").EvaluateAsync(PasteImage);
        var pasted = adaPage.Locator("#pane [data-testid=upload]", new() { HasText = "mockup.png" });
        await Expect(pasted).ToHaveAttributeAsync("data-state", "ready");
        await adaPage.Locator("#composer").FillAsync("Here is the **launch** mockup");
        await adaPage.Locator("#composer").PressAsync("Enter");
        await Expect(adaPage.Locator("#pane [data-testid=upload]")).ToHaveCountAsync(0);

        // Then she attaches a PDF with the 📎 button and sends it without text.
        var pdf = Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + new string('x', 3000) + "\n%%EOF\n");
        var chooser = await adaPage.RunAndWaitForFileChooserAsync(() =>
            adaPage.Locator("#pane").GetByRole(AriaRole.Button, new() { Name = "Attach files" }).ClickAsync());
        await chooser.SetFilesAsync(new FilePayload { Name = "launch-plan.pdf", MimeType = "application/pdf", Buffer = pdf });
        await Expect(adaPage.Locator("#pane [data-testid=upload]", new() { HasText = "launch-plan.pdf" })).ToHaveAttributeAsync("data-state", "ready");
        await adaPage.Locator("#composer").PressAsync("Enter");

        // Bob's page shows both live: the image as a loaded preview under the formatted text, the PDF as a card.
        var imageMessage = Message(bobPage, "Here is the launch mockup");
        await Expect(imageMessage.Locator(".text strong")).ToHaveTextAsync("launch");
        var preview = imageMessage.GetByTestId("attachment-image");
        // The preview loads the server's thumbnail (longest side 360 px), laid out at the image's own size beforehand.
        await Expect(preview.Locator("img")).ToHaveJSPropertyAsync("naturalWidth", 360);
        await Expect(preview.Locator("img")).ToHaveAttributeAsync("width", "480");
        await Expect(preview.Locator("img")).ToHaveAttributeAsync("height", "270");
        await Expect(preview).ToContainTextAsync("mockup.png");
        var card = bobPage.Locator("#messages [data-testid=file-card]", new() { HasText = "launch-plan.pdf" });
        await Expect(card).ToContainTextAsync("PDF");
        await Expect(card.Locator(".file-icon")).ToHaveTextAsync("📕");
        await Expect(card.Locator(".file-size")).ToContainTextAsync("KB");
        await Expect(Message(adaPage, "Here is the launch mockup").Locator("img")).ToHaveJSPropertyAsync("naturalWidth", 360);
        await ScreenshotAsync(bobPage, "files-channel");

        // The card downloads the very bytes Ada sent, under their name.
        var download = await bobPage.RunAndWaitForDownloadAsync(() =>
            card.GetByRole(AriaRole.Button, new() { Name = "Download launch-plan.pdf" }).ClickAsync());
        Assert.Equal("launch-plan.pdf", download.SuggestedFilename);
        Assert.Equal(pdf, await File.ReadAllBytesAsync((await download.PathAsync())!));

        // A click on the preview opens the lightbox with the full image; Escape closes it.
        await preview.GetByRole(AriaRole.Button, new() { Name = "Open mockup.png" }).ClickAsync();
        var lightbox = bobPage.GetByTestId("lightbox");
        await Expect(lightbox.Locator("img")).ToHaveJSPropertyAsync("naturalWidth", 480);
        await Expect(lightbox).ToContainTextAsync("mockup.png");
        await Expect(lightbox.GetByRole(AriaRole.Button, new() { Name = "Download mockup.png" })).ToBeVisibleAsync();
        await bobPage.Keyboard.PressAsync("Escape");
        await Expect(lightbox).ToHaveCountAsync(0);

        // What the API stored: the PDF's message has no text and carries the file with the hash of its bytes.
        // (The page's posts are not the ApiUser's commands: the read is repeated until the history has them.)
        var messages = await Eventually.Until(async () => (await ada.GetAsync($"/v1/channels/{design}/messages")).GetProperty("messages"),
            list => list.GetArrayLength() == 3, what: "three messages in the history");
        var posted = messages.EnumerateArray().Single(m => m.GetProperty("files").GetArrayLength() == 1 && m.GetProperty("files")[0].GetProperty("name").GetString() == "launch-plan.pdf");
        Assert.Equal("", posted.GetProperty("text").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(pdf)), posted.GetProperty("files")[0].GetProperty("sha256").GetString());
        Assert.Equal("application/pdf", posted.GetProperty("files")[0].GetProperty("contentType").GetString());
    }

    [Fact]
    public async Task A_20_MB_file_dropped_on_the_channel_uploads_with_progress_a_cancelled_one_is_not_sent_and_a_2_GB_one_is_refused_before_any_byte()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        var data = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "data" }, "channelId");

        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{data}\"]").ClickAsync();
        await Expect(page.Locator("#composer")).ToBeVisibleAsync();
        var puts = 0;
        page.Request += (_, request) =>
        {
            if (request.Method == "PUT" && request.Url.Contains("/v1/objects/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref puts);
            }
        };
        // Uploads are throttled in the browser (DevTools network conditions) so that progress can be seen on loopback.
        var cdp = await page.Context.NewCDPSessionAsync(page);
        await cdp.SendAsync("Network.enable");
        await ThrottleUploadsAsync(cdp, 8 * MiB);

        await DropAsync(page, "dataset.bin", 20);
        var dataset = page.Locator("#pane [data-testid=upload]", new() { HasText = "dataset.bin" });
        await Expect(dataset).ToContainTextAsync("20 MB");
        await Expect(dataset.Locator(".upload-status")).ToHaveTextAsync(MidUpload());
        await Expect(dataset).ToHaveAttributeAsync("data-state", "ready", new() { Timeout = 60_000 });

        // A second file, slower still, is cancelled mid-way: it leaves the tray and is not sent.
        await ThrottleUploadsAsync(cdp, MiB);
        await DropAsync(page, "second.bin", 20);
        var second = page.Locator("#pane [data-testid=upload]", new() { HasText = "second.bin" });
        await Expect(second.Locator(".upload-status")).ToHaveTextAsync(MidUpload());
        await second.GetByRole(AriaRole.Button, new() { Name = "Cancel upload of second.bin" }).ClickAsync();
        await Expect(second).ToHaveCountAsync(0);
        await ThrottleUploadsAsync(cdp, -1);

        await page.Locator("#composer").FillAsync("Here is the dataset");
        await page.Locator("#composer").PressAsync("Enter");
        var card = Message(page, "Here is the dataset").GetByTestId("file-card");
        await Expect(card).ToHaveCountAsync(1);
        await Expect(card).ToContainTextAsync("dataset.bin");
        await Expect(card.Locator(".file-size")).ToHaveTextAsync("20 MB · BIN");
        var history = await Eventually.Until(async () => (await ada.GetAsync($"/v1/channels/{data}/messages")).GetProperty("messages"),
            list => list.GetArrayLength() == 1, what: "the message in the history");
        var stored = history[0].GetProperty("files");
        Assert.Equal(1, stored.GetArrayLength());
        Assert.Equal(20L * MiB, stored[0].GetProperty("size").GetInt64());
        Assert.Equal(PatternSha256(20), stored[0].GetProperty("sha256").GetString());

        // 2 GB is over the API's size limit: the upload ticket is refused (413) and the page says so; no byte is sent.
        var putsBefore = Volatile.Read(ref puts);
        Assert.Equal(2, putsBefore);
        await DropAsync(page, "disk-image.iso", 2048);
        var huge = page.Locator("#pane [data-testid=upload]", new() { HasText = "disk-image.iso" });
        await Expect(huge).ToHaveAttributeAsync("data-state", "failed");
        await Expect(huge.GetByRole(AriaRole.Alert)).ToContainTextAsync("“disk-image.iso” (2 GB) is too large to upload.");
        Assert.Equal(putsBefore, Volatile.Read(ref puts));
        await huge.GetByRole(AriaRole.Button, new() { Name = "Remove disk-image.iso" }).ClickAsync();
        await Expect(huge).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_file_over_the_workspace_s_quota_is_refused_with_a_clear_message_and_a_message_can_still_be_sent()
    {
        var node = StartHost(settings: new() { ["Files:WorkspaceQuotaBytes"] = "1000" });
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        var notes = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "notes" }, "channelId");

        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{notes}\"]").ClickAsync();
        await Expect(page.Locator("#composer")).ToBeVisibleAsync();
        var chooser = await page.RunAndWaitForFileChooserAsync(() =>
            page.Locator("#pane").GetByRole(AriaRole.Button, new() { Name = "Attach files" }).ClickAsync());
        await chooser.SetFilesAsync(new FilePayload { Name = "minutes.txt", MimeType = "text/plain", Buffer = Encoding.UTF8.GetBytes(new string('m', 2048)) });
        var refused = page.Locator("#pane [data-testid=upload]", new() { HasText = "minutes.txt" });
        await Expect(refused).ToHaveAttributeAsync("data-state", "failed");
        await Expect(refused.GetByRole(AriaRole.Alert)).ToContainTextAsync("“minutes.txt” (2 KB) does not fit: the workspace's file storage is full.");

        // The refused file is not sent: the message goes without it.
        await page.Locator("#composer").FillAsync("Minutes follow by mail");
        await page.Locator("#composer").PressAsync("Enter");
        await Expect(Message(page, "Minutes follow by mail")).ToBeVisibleAsync();
        await Expect(Message(page, "Minutes follow by mail").Locator(".attachment")).ToHaveCountAsync(0);
        await Expect(refused).ToHaveCountAsync(0);
    }

    private static ILocator Message(IPage page, string text) => page.Locator("#messages [data-testid=message]", new() { HasText = text });

    [GeneratedRegex(@"^Uploading [1-9][0-9]? %$")]
    private static partial Regex MidUpload();

    private static Task ThrottleUploadsAsync(ICDPSession cdp, double bytesPerSecond) =>
        cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
        {
            ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = bytesPerSecond,
        });

    /// <summary>
    /// Drops a file of <paramref name="mib"/> MiB on the message list: one 1 MiB block repeated, composed of Blob
    /// references, so a 2 GB file takes no 2 GB of memory in the browser.
    /// </summary>
    private static Task DropAsync(IPage page, string name, int mib) => page.EvaluateAsync("""
        ([name, mib]) => {
            const block = new Uint8Array(1024 * 1024);
            for (let i = 0; i < block.length; i++) block[i] = (i * 7 + 3) & 0xff;
            const one = new Blob([block]);
            const file = new File(Array.from({ length: mib }, () => one), name, { type: 'application/octet-stream' });
            const dataTransfer = new DataTransfer();
            dataTransfer.items.add(file);
            const target = document.querySelector('#messages');
            target.dispatchEvent(new DragEvent('dragover', { dataTransfer, bubbles: true, cancelable: true }));
            target.dispatchEvent(new DragEvent('drop', { dataTransfer, bubbles: true, cancelable: true }));
        }
        """, new object[] { name, mib });

    private static string PatternSha256(int mib)
    {
        var block = new byte[MiB];
        for (var i = 0; i < block.Length; i++)
        {
            block[i] = (byte)((i * 7 + 3) & 0xff);
        }
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var i = 0; i < mib; i++)
        {
            sha.AppendData(block);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Draws a 480x270 PNG on a canvas and pastes it into the given text box as a clipboard file.</summary>
    private const string PasteImage = """
        async input => {
            const canvas = document.createElement('canvas');
            canvas.width = 480;
            canvas.height = 270;
            const g = canvas.getContext('2d');
            const gradient = g.createLinearGradient(0, 0, 480, 270);
            gradient.addColorStop(0, '#1164a3');
            gradient.addColorStop(1, '#3b2a5a');
            g.fillStyle = gradient;
            g.fillRect(0, 0, 480, 270);
            g.fillStyle = '#ffffff';
            g.fillRect(40, 60, 400, 24);
            g.fillRect(40, 110, 260, 16);
            g.fillRect(40, 140, 300, 16);
            g.fillStyle = '#f2b600';
            g.fillRect(40, 200, 120, 36);
            const blob = await new Promise(resolve => canvas.toBlob(resolve, 'image/png'));
            const clipboardData = new DataTransfer();
            clipboardData.items.add(new File([blob], 'mockup.png', { type: 'image/png' }));
            input.focus();
            input.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }));
        }
        """;
}
