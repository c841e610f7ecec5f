using System.Diagnostics;
using System.Net;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// Browser tests: the web client built from <c>web/</c> (by <c>scripts/web.sh build</c>, run once per test run), served by
/// real Gateway hosts listening on loopback ports (Kestrel, not the in-memory TestServer: a browser needs a socket), driven
/// in Debian's Chromium by Playwright (no browser download). Screenshots go to <c>TestResults/screenshots</c>.
/// </summary>
[Collection(PostgresCollection.Name)]
public abstract class BrowserTest(PostgresFixture db) : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private static readonly Lazy<string> WebRoot = new(BuildWebClient);
    private readonly List<WebHost> _hosts = [];
    private IPlaywright? _playwright;

    protected PostgresFixture Db { get; } = db;

    protected IBrowser Browser { get; private set; } = null!;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ScreenshotDirectory => Path.Combine(RepositoryRoot, "TestResults", "screenshots");

    public virtual async Task InitializeAsync()
    {
        await Db.ResetAsync();
        _ = WebRoot.Value;
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/web.sh setup --browser (apt-get install chromium)");
        // Bounded waits: a page on a busy 2-core machine may take a few seconds to show a change.
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>
    /// A Gateway host with every role on 127.0.0.1:<paramref name="port"/> (0: any free port), stopped after the test;
    /// <paramref name="settings"/> add to or replace the host's configuration.
    /// </summary>
    protected WebHost StartHost(int port = 0, Dictionary<string, string?>? settings = null)
    {
        var host = new WebHost(Db, WebRoot.Value, port, settings);
        _hosts.Add(host);
        return host;
    }

    /// <summary>A fresh browser context (its own storage: another person) with one page at <paramref name="url"/>.</summary>
    protected async Task<IPage> OpenPageAsync(string url, int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, Locale = "en-GB", TimezoneId = "UTC" });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(url);
        return page;
    }

    /// <summary>Signs up through the page and answers the new user's id as the page shows it.</summary>
    protected static async Task<string> SignUpAsync(IPage page, string name)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Create an account" }).ClickAsync();
        await page.GetByLabel("Display name").FillAsync(name);
        await page.GetByLabel("Email").FillAsync($"{name.ToLowerInvariant()}-{Guid.NewGuid():N}@example.test");
        await page.GetByLabel("Password").FillAsync("correct horse battery");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Create a workspace" }).WaitForAsync();
        return (await page.GetByTestId("my-user-id").TextContentAsync())!.Trim();
    }

    protected static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, $"{name}.png") });
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "web", "package.json")) && File.Exists(Path.Combine(dir.FullName, "EventSourcedChat.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No repository root (web/package.json) above {AppContext.BaseDirectory}");
    }

    /// <summary>Builds the client from the current sources (npm ci first when needed), once per test run.</summary>
    private static string BuildWebClient()
    {
        var script = Path.Combine(RepositoryRoot, "scripts", "web.sh");
        using var build = Process.Start(new ProcessStartInfo("bash", [script, "build"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot,
        })!;
        var stderr = build.StandardError.ReadToEndAsync();
        var stdout = build.StandardOutput.ReadToEndAsync();
        if (!build.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            build.Kill(entireProcessTree: true);
            throw new TimeoutException("scripts/web.sh build took more than 5 minutes");
        }
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/web.sh build failed ({build.ExitCode}): {stdout.Result}{stderr.Result}");
        }
        var root = Path.Combine(RepositoryRoot, "web", "dist");
        Assert.True(File.Exists(Path.Combine(root, "index.html")), "the web build wrote no web/dist/index.html");
        return root;
    }
}

/// <summary>The real Gateway (all roles) on a loopback Kestrel port, on the test database and the real Redis and RabbitMQ.</summary>
public sealed class WebHost : IAsyncDisposable
{
    private readonly ChatHost _host;

    public WebHost(PostgresFixture db, string webRoot, int port, Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["WebClient:Root"] = webRoot,
            ["Redis:Prefix"] = $"esc:{PostgresFixture.DatabaseName}:web:",
            ["RateLimits:PostsPerSecond"] = "1000",
            ["RateLimits:PostsBurst"] = "1000",
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }
        _host = new ChatHost(db, all);
        _host.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        _host.StartServer();
        var address = _host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address);
    }

    public Uri Url { get; }

    public int Port => Url.Port;

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
