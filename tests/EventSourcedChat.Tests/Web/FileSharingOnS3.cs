using Amazon.S3;
using Amazon.S3.Model;
using EventSourcedChat.Gateway.Files;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using SkiaSharp;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// The page with the S3 store (the services script's s3rver): its policy adds the store's origin, and only it, to
/// <c>img-src</c> and <c>connect-src</c>; with the bucket's CORS rule for the page's origin, an image goes from the page
/// straight to the store and its preview loads from there, with no blocked request.
/// </summary>
public sealed class FileSharingOnS3(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task An_image_goes_from_the_page_to_the_s3_store_and_its_preview_loads_from_there_under_a_policy_naming_that_origin_only()
    {
        // A bucket of this test's own (CORS is a bucket's setting), with the rule for the page's origin.
        var settings = S3TestServer.Settings();
        var bucket = $"esc-web-{PostgresFixture.DatabaseName.Replace('_', '-')}";
        settings[$"{S3Settings.Section}:Bucket"] = bucket;
        var node = StartHost(settings: settings);
        var pageOrigin = node.Url.GetLeftPart(UriPartial.Authority);
        var storeOrigin = new Uri(settings[$"{S3Settings.Section}:ServiceUrl"]!).GetLeftPart(UriPartial.Authority);
        using (var s3 = S3ObjectStore.CreateClient(new S3Settings
        {
            ServiceUrl = settings[$"{S3Settings.Section}:ServiceUrl"], Bucket = bucket, AccessKey = settings[$"{S3Settings.Section}:AccessKey"],
            SecretKey = settings[$"{S3Settings.Section}:SecretKey"], Region = settings[$"{S3Settings.Section}:Region"]!,
        }))
        {
            await S3TestServer.EnsureBucketAsync(s3, bucket);
            await s3.PutCORSConfigurationAsync(new PutCORSConfigurationRequest
            {
                BucketName = bucket,
                Configuration = new CORSConfiguration
                {
                    Rules = [new CORSRule { AllowedOrigins = [pageOrigin], AllowedMethods = ["GET", "PUT", "HEAD"], AllowedHeaders = ["*"], ExposeHeaders = ["ETag"], MaxAgeSeconds = 600 }],
                },
            });
        }

        // The policy names the store's origin in img-src and connect-src, and no other origin.
        using (var http = new HttpClient { BaseAddress = node.Url })
        {
            using var root = await http.GetAsync("/");
            var csp = Assert.Single(root.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains($"img-src 'self' data: {storeOrigin};", csp, StringComparison.Ordinal);
            Assert.Contains($"connect-src 'self' ws: wss: {storeOrigin};", csp, StringComparison.Ordinal);
            Assert.Equal(2, csp.Split("http", StringSplitOptions.None).Length - 1);
            Assert.DoesNotContain("*", csp, StringComparison.Ordinal);
        }

        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        var design = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "design" }, "channelId");
        var page = await OpenPageAsync(node.Url.ToString());
        var problems = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.Ordinal) || m.Text.Contains("CORS", StringComparison.Ordinal) || m.Text.Contains("Refused", StringComparison.Ordinal))
            {
                problems.Add(m.Text);
            }
        };
        var puts = new List<string>();
        page.Request += (_, r) =>
        {
            if (r.Method == "PUT")
            {
                puts.Add(r.Url);
            }
        };
        await ada.LogInAsync(page);
        await page.Locator($"#sidebar [data-channel=\"{design}\"]").ClickAsync();

        var chooser = await page.RunAndWaitForFileChooserAsync(() =>
            page.Locator("#pane").GetByRole(AriaRole.Button, new() { Name = "Attach files" }).ClickAsync());
        await chooser.SetFilesAsync(new FilePayload { Name = "board.png", MimeType = "image/png", Buffer = TestImages.Png(480, 270) });
        await Expect(page.Locator("#pane [data-testid=upload]", new() { HasText = "board.png" })).ToHaveAttributeAsync("data-state", "ready");
        await page.Locator("#composer").FillAsync("The board");
        await page.Locator("#composer").PressAsync("Enter");

        var preview = page.Locator("#messages [data-testid=message]", new() { HasText = "The board" }).GetByTestId("attachment-image").Locator("img");
        await Expect(preview).ToHaveJSPropertyAsync("naturalWidth", 360); // the thumbnail, from the store
        Assert.StartsWith(storeOrigin + "/", await preview.GetAttributeAsync("src"), StringComparison.Ordinal);
        Assert.Contains(puts, url => url.StartsWith(storeOrigin + "/", StringComparison.Ordinal)); // the bytes went to the store
        Assert.Empty(problems);
    }
}
