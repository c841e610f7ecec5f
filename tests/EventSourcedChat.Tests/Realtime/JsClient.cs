using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>
/// The hub against the official SignalR JavaScript client (<c>@microsoft/signalr</c> under Node, <c>tests/js</c>),
/// on a Kestrel-hosted gateway process. The test installs the client with <c>npm ci</c> when it is missing.
/// </summary>
public sealed class JsClient(PostgresFixture db) : RealtimeTest(db)
{
    private static readonly SemaphoreSlim Install = new(1, 1);

    [Fact]
    public async Task The_official_js_client_connects_with_a_token_factory_resumes_and_receives_a_post_and_typing()
    {
        var folder = await InstalledClientAsync();
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        await JoinAsync(bob, general);
        await DirectoryAsync(general, [ada, bob]);
        var gateway = Own(await GatewayProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Roles"] = "gateway",
            ["ConnectionStrings:Postgres"] = Db.ConnectionString,
            ["Realtime:Exchange"] = $"chat.events.{PostgresFixture.DatabaseName}",
            ["Redis:Prefix"] = $"esc_tests_jsclient:{Guid.NewGuid():N}:",
        }));
        var (_, cursor) = await PostAsync(ada, general, "before the client connected");

        await using var node = NodeScript.Start(folder, "hub-client.mjs", [gateway.HubUrl, cursor.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new() { ["ESC_TOKEN"] = bob.Client.DefaultRequestHeaders.Authorization!.Parameter });
        var ready = await node.NextAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("ready", ready.GetProperty("step").GetString());
        Assert.True(ready.GetProperty("tokenRequests").GetInt32() >= 1, "the access token factory was used");
        Assert.Equal("hello", ready.GetProperty("hello").GetProperty("type").GetString());
        Assert.Equal(bob.UserId, ready.GetProperty("hello").GetProperty("data").GetProperty("userId").GetString());
        Assert.Equal(0, ready.GetProperty("eventsBeforeHello").GetInt32());
        var (seq, position) = await PostAsync(ada, general, "hello js");
        var adaHub = Own(await HubClient.ConnectAsync(gateway.HubUrl, ada));
        await adaHub.InvokeAsync("Typing", general);

        var done = await node.NextAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("done", done.GetProperty("step").GetString());
        var events = done.GetProperty("events").EnumerateArray().ToList();
        // Resume replayed nothing before the cursor; the live post came as API.md's envelope.
        var posted = Assert.Single(events, e => e.GetProperty("type").GetString() == "message.posted");
        Assert.Equal(general, posted.GetProperty("channelId").GetString());
        Assert.Equal(seq, posted.GetProperty("seq").GetInt64());
        Assert.Equal(position, posted.GetProperty("position").GetInt64());
        Assert.Equal("hello js", posted.GetProperty("data").GetProperty("text").GetString());
        var typing = Assert.Single(events, e => e.GetProperty("type").GetString() == "typing");
        Assert.Equal(general, typing.GetProperty("channelId").GetString());
        Assert.Equal(ada.UserId, typing.GetProperty("data").GetProperty("userId").GetString());
        Assert.Equal(0, await node.ExitCodeAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>
    /// The web client's first start (nothing seen yet, so no Resume): with the official client, start() resolves on the
    /// handshake, before the hub registered the connection; the client waits for hello, and a typing signal sent right
    /// after it arrives (before hello, it could miss the connection).
    /// </summary>
    [Fact]
    public async Task The_official_js_client_waits_for_hello_and_then_receives_typing_sent_at_once_without_a_Resume()
    {
        var folder = await InstalledClientAsync();
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var general = await ChannelAsync(ada, await WorkspaceAsync(ada, bob), "general");
        await JoinAsync(bob, general);
        await DirectoryAsync(general, [ada, bob]);
        var gateway = Own(await GatewayProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Roles"] = "gateway",
            ["ConnectionStrings:Postgres"] = Db.ConnectionString,
            ["Realtime:Exchange"] = $"chat.events.{PostgresFixture.DatabaseName}",
            ["Redis:Prefix"] = $"esc_tests_jsclient:{Guid.NewGuid():N}:",
        }));
        var adaHub = Own(await HubClient.ConnectAsync(gateway.HubUrl, ada));

        await using var node = NodeScript.Start(folder, "hub-client.mjs", [gateway.HubUrl, "none"],
            new() { ["ESC_TOKEN"] = bob.Client.DefaultRequestHeaders.Authorization!.Parameter });
        var ready = await node.NextAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("ready", ready.GetProperty("step").GetString());
        Assert.Equal(bob.UserId, ready.GetProperty("hello").GetProperty("data").GetProperty("userId").GetString());
        await adaHub.InvokeAsync("Typing", general);
        var (seq, _) = await PostAsync(ada, general, "after hello");

        var done = await node.NextAsync(TimeSpan.FromSeconds(30));
        var events = done.GetProperty("events").EnumerateArray().ToList();
        var typing = Assert.Single(events, e => e.GetProperty("type").GetString() == "typing");
        Assert.Equal(ada.UserId, typing.GetProperty("data").GetProperty("userId").GetString());
        Assert.Equal(seq, Assert.Single(events, e => e.GetProperty("type").GetString() == "message.posted").GetProperty("seq").GetInt64());
        Assert.Equal(0, done.GetProperty("eventsBeforeHello").GetInt32());
        Assert.Equal(0, await node.ExitCodeAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>tests/js with its node_modules: <c>npm ci</c> once per checkout (again when package-lock.json changes).</summary>
    private static async Task<string> InstalledClientAsync()
    {
        var folder = FindFolder(Path.Combine("tests", "js"));
        await Install.WaitAsync();
        try
        {
            var installed = Path.Combine(folder, "node_modules", ".package-lock.json");
            var lockFile = Path.Combine(folder, "package-lock.json");
            if (!File.Exists(installed) || File.GetLastWriteTimeUtc(installed) < File.GetLastWriteTimeUtc(lockFile))
            {
                var (code, output) = await NodeScript.RunAsync(folder, "npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
                Assert.True(code == 0, $"npm ci failed ({code}):\n{output}");
            }
        }
        finally
        {
            Install.Release();
        }
        return folder;
    }

    private static string FindFolder(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>A Node script whose stdout is one JSON value per line; killed on dispose.</summary>
internal sealed class NodeScript : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly System.Text.StringBuilder _stderr = new();

    private NodeScript(Process process) => _process = process;

    public static NodeScript Start(string folder, string script, IEnumerable<string> arguments, Dictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo("node", [script, .. arguments])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start };
        var node = new NodeScript(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                node._lines.Writer.TryComplete();
            }
            else if (e.Data.Length > 0)
            {
                node._lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (node._stderr)
            {
                node._stderr.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>The next JSON line; fails with the script's stderr when it ends or the time is up first.</summary>
    public async Task<JsonElement> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var line = await _lines.Reader.ReadAsync(cts.Token);
            var value = JsonDocument.Parse(line).RootElement.Clone();
            Assert.True(value.GetProperty("step").GetString() != "failed", $"node script failed: {line}\n{Stderr}");
            return value;
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"no line from the node script ({e.GetType().Name}); stderr:\n{Stderr}", e);
        }
    }

    public async Task<int> ExitCodeAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    private string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Runs a command to its end (bounded), answering its exit code and output.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string folder, string command, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(command, arguments)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {timeout}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
        }
        _process.Dispose();
    }
}
