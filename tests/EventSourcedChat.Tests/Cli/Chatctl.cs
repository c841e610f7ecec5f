using System.Net;
using EventSourcedChat.Cli;
using EventSourcedChat.Cli.Api;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Audit;
using EventSourcedChat.Tests.Infrastructure;
using Spectre.Console;

namespace EventSourcedChat.Tests.Cli;

/// <summary>chatctl's commands, parsed and run in process against the real host (its HTTP client) and database.</summary>
public sealed class Chatctl(PostgresFixture db) : AuditTest(db)
{
    private readonly StringWriter _console = new();
    private readonly StringWriter _output = new();

    /// <summary>Runs <c>chatctl args...</c> with the token of <paramref name="user"/> against <paramref name="host"/>.</summary>
    private async Task<int> RunAsync(TestUser? user, ChatHost? host, params string[] args)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(_console),
        });
        console.Profile.Width = 400;
        ChatApi Connect(string url, string? token)
        {
            var client = (host ?? Host).CreateClient();
            client.Timeout = Timeout.InfiniteTimeSpan;
            client.DefaultRequestHeaders.Authorization = token is null ? null : new("Bearer", token);
            return new ChatApi(client);
        }
        string[] auth = user is null ? [] : ["--token", user.Client.DefaultRequestHeaders.Authorization!.Parameter!];
        return await ChatctlCommand.Build(console, _output, Connect).Parse([.. args, .. auth]).InvokeAsync();
    }

    private string Printed => _console.ToString();

    [Fact]
    public async Task Chatctl_creates_users_and_workspaces_and_grants_and_revokes_the_auditor_role()
    {
        var email = $"carol-{Guid.NewGuid():N}@example.test";
        Assert.Equal(0, await RunAsync(null, null, "user", "create", "--email", email, "--password", "correct horse battery", "--name", "Carol"));
        var carol = await ScalarAsync<string>("select user_id from ws_users where email = $1", email);
        Assert.Contains(carol, Printed, StringComparison.Ordinal);

        var ada = await RegisterAsync("ada");
        Assert.Equal(0, await RunAsync(ada, null, "workspace", "create", "Acme"));
        var ws = await ScalarAsync<string>("select workspace_id from ws_workspaces where created_by = $1", ada.UserId);
        Assert.Contains(ws, Printed, StringComparison.Ordinal);

        Assert.Equal(0, await RunAsync(ada, null, "workspace", "member", ws, carol, "--role", "auditor"));
        Assert.Equal("auditor", await ScalarAsync<string>("select role from ws_workspace_members where workspace_id = $1 and user_id = $2", ws, carol));
        Assert.Equal(0, await RunAsync(ada, null, "workspace", "member", ws, carol, "--role", "member"));
        Assert.Equal("member", await ScalarAsync<string>("select role from ws_workspace_members where workspace_id = $1 and user_id = $2", ws, carol));

        // A refusal is printed with its status and code, and fails the command.
        Assert.Equal(ChatctlCommand.Failed, await RunAsync(null, null, "workspace", "create", "Nobody's"));
        Assert.Contains("401", Printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_export_lists_each_file_with_its_hash_and_url_and_verify_checks_the_downloaded_bytes_against_the_chain()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        byte[] notes = System.Text.Encoding.ASCII.GetBytes("minutes of the meeting\n"), png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        using var store = Anonymous();
        var (notesId, _) = await Uploads.UploadAsync(ada, store, ws, notes, "minutes.txt");
        var (pngId, _) = await Uploads.UploadAsync(ada, store, ws, png, "chart.png");
        var seq = (await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "for the record", files = new[] { notesId, pngId } },
            HttpStatusCode.Created)).GetProperty("seq").GetInt64();
        await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{seq}"); // deleted messages' files are listed too
        var file = Path.Combine(Path.GetTempPath(), $"audit-{Guid.NewGuid():N}.ndjson");
        var dir = Path.Combine(Path.GetTempPath(), $"audit-files-{Guid.NewGuid():N}");
        try
        {
            Assert.Equal(0, await RunAsync(ada, null, "audit", "export", ch, "--out", file, "--files", dir));

            var posted = System.Text.Json.JsonDocument.Parse((await File.ReadAllLinesAsync(file)).Single(l => l.Contains("\"message.posted", StringComparison.Ordinal))).RootElement;
            var listed = posted.GetProperty("files").EnumerateArray().ToList();
            Assert.Equal([notesId, pngId], listed.Select(f => f.GetProperty("fileId").GetString()!).ToList());
            Assert.Equal(Sha(notes), listed[0].GetProperty("sha256").GetString());
            Assert.StartsWith("/v1/objects/" + notesId + "?", listed[0].GetProperty("downloadUrl").GetString(), StringComparison.Ordinal);
            Assert.Equal(notes, await File.ReadAllBytesAsync(Path.Combine(dir, notesId)));
            Assert.Equal(png, await File.ReadAllBytesAsync(Path.Combine(dir, pngId)));
            Assert.Contains("downloaded 2 files", Printed, StringComparison.Ordinal);

            Assert.Equal(0, await RunAsync(null, null, "audit", "verify", "--file", file, "--files", dir));
            Assert.Contains("files: 2 match the chain, 0 tampered, 0 missing", Printed, StringComparison.Ordinal);

            await File.WriteAllTextAsync(Path.Combine(dir, notesId), "minutes of another meeting\n");
            Assert.Equal(ChatctlCommand.ChainBroken, await RunAsync(null, null, "audit", "verify", "--file", file, "--files", dir));
            Assert.Contains($"tampered: {notesId}", Printed, StringComparison.Ordinal);

            File.Delete(Path.Combine(dir, pngId));
            Assert.Equal(ChatctlCommand.ChainBroken, await RunAsync(null, null, "audit", "verify", "--file", file, "--files", dir));
            Assert.Contains($"missing: {pngId}", Printed, StringComparison.Ordinal);
            Assert.Equal(ChatctlCommand.Failed, await RunAsync(null, null, "audit", "verify", ch, "--files", dir)); // only with --file
        }
        finally
        {
            File.Delete(file);
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    [Fact]
    public async Task An_exported_channel_re_verifies_from_the_file_and_a_changed_line_is_named_by_its_seq()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var seq = await PostAsync(ada, ch, "original \"quoted\" text with ünïcödé and emoji 🎉");
        await ada.Ok("PATCH", $"/v1/channels/{ch}/messages/{seq}", new { text = "edited" });
        for (var i = 0; i < 20; i++)
        {
            await PostAsync(ada, ch, $"message {i}");
        }
        await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{seq}");
        var file = Path.Combine(Path.GetTempPath(), $"audit-{Guid.NewGuid():N}.ndjson");
        try
        {
            Assert.Equal(0, await RunAsync(ada, null, "audit", "export", ch, "--out", file));
            var lines = await File.ReadAllLinesAsync(file);
            Assert.Equal(25, lines.Length);
            Assert.Contains("wrote 25 events", Printed, StringComparison.Ordinal);

            Assert.Equal(0, await RunAsync(null, null, "audit", "verify", "--file", file));
            Assert.Equal(0, await RunAsync(ada, null, "audit", "verify", ch));
            Assert.Contains("ok: 25 events", Printed, StringComparison.Ordinal);

            lines[9] = lines[9].Replace("message 5", "message 6", StringComparison.Ordinal);
            await File.WriteAllLinesAsync(file, lines);
            Assert.Equal(ChatctlCommand.ChainBroken, await RunAsync(null, null, "audit", "verify", "--file", file));
            Assert.Contains("first bad seq 10", Printed, StringComparison.Ordinal);

            // A partial export is anchored at its first prevHash.
            Assert.Equal(0, await RunAsync(ada, null, "audit", "export", ch, "--out", file, "--from-seq", "7"));
            Assert.Equal(19, (await File.ReadAllLinesAsync(file)).Length);
            Assert.Equal(0, await RunAsync(null, null, "audit", "verify", "--file", file, "--channel", ch));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_channel_with_pins_exports_and_verifies_and_a_changed_pin_is_named_by_its_seq()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var first = await PostAsync(ada, ch, "pin me");
        var second = await PostAsync(ada, ch, "pin me too");
        await ada.Ok("PUT", $"/v1/channels/{ch}/messages/{first}/pin");
        await ada.Ok("PUT", $"/v1/channels/{ch}/messages/{second}/pin");
        await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{first}/pin");
        var file = Path.Combine(Path.GetTempPath(), $"audit-{Guid.NewGuid():N}.ndjson");
        try
        {
            Assert.Equal(0, await RunAsync(ada, null, "audit", "export", ch, "--out", file));
            var lines = await File.ReadAllLinesAsync(file);
            Assert.Equal(7, lines.Length);
            Assert.Contains("message.unpinned.v1", lines[6], StringComparison.Ordinal);
            Assert.Equal(0, await RunAsync(null, null, "audit", "verify", "--file", file));
            Assert.Equal(0, await RunAsync(ada, null, "audit", "verify", ch));
            Assert.Contains("ok: 7 events", Printed, StringComparison.Ordinal);

            var pinned = lines[5];
            lines[5] = lines[5].Replace($"\"seq\": {second}", $"\"seq\": {first}", StringComparison.Ordinal)
                .Replace($"\"seq\":{second}", $"\"seq\":{first}", StringComparison.Ordinal);
            Assert.Contains("message.pinned.v1", lines[5], StringComparison.Ordinal);
            Assert.NotEqual(pinned, lines[5]); // the pin now names the other message
            await File.WriteAllLinesAsync(file, lines);
            Assert.Equal(ChatctlCommand.ChainBroken, await RunAsync(null, null, "audit", "verify", "--file", file));
            Assert.Contains("first bad seq 6", Printed, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Analytics_views_print_as_csv_and_survive_a_projection_rebuild_run_from_chatctl()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        for (var i = 0; i < 3; i++)
        {
            await PostAsync(ada, ch, $"message {i}");
        }
        var head = await ScalarAsync<long>("select max(position) from es_events");
        Assert.True(await ReadYourWrites.CaughtUpAsync(Db.DataSource, head, ["projection:history", ChannelAccess.Directory], default));
        var day = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var expected = $"{ws},{ch},general,{day},3,0,0,1";

        Assert.Equal(0, await RunAsync(null, null, "analytics", "query", "messages_per_channel_day", "--format", "csv", "--workspace", ws, "--db", Db.ConnectionString));
        Assert.Equal(["workspace_id,channel_id,channel_name,day,messages,replies,deleted,authors", expected],
            _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal(ChatctlCommand.Failed, await RunAsync(null, null, "analytics", "query", "no_such_view", "--db", Db.ConnectionString));

        await using var adminHost = new ChatHost(Db, new() { ["Admins"] = ada.UserId });
        Assert.Equal(0, await RunAsync(ada, adminHost, "projections", "status"));
        Assert.Contains("history", Printed, StringComparison.Ordinal);
        Assert.Equal(0, await RunAsync(ada, adminHost, "projections", "rebuild", "history"));
        Assert.Contains("history rebuilt and switched over", Printed, StringComparison.Ordinal);

        _output.GetStringBuilder().Clear();
        Assert.Equal(0, await RunAsync(null, null, "analytics", "query", "messages_per_channel_day", "--format", "csv", "--workspace", ws, "--db", Db.ConnectionString));
        Assert.Contains(expected, _output.ToString(), StringComparison.Ordinal);
        Assert.Equal(ChatctlCommand.Failed, await RunAsync(ada, null, "projections", "status"));
        Assert.Contains("403", Printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Projections_restart_starts_the_owner_s_run_again_and_status_shows_owner_and_lag()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        await PostAsync(ada, ch, "hello");
        var started = await StartedAtAsync("unread");
        await using var adminHost = new ChatHost(Db, new() { ["Roles"] = "api", ["Admins"] = ada.UserId });

        Assert.Equal(0, await RunAsync(ada, adminHost, "projections", "restart", "unread"));
        Assert.Contains("restart of unread requested", Printed, StringComparison.Ordinal);

        // The owner (the shared host, not the api node that took the request) starts a new run.
        await Eventually.Until(() => StartedAtAsync("unread"), at => at > started, TimeSpan.FromSeconds(10), "a new run of unread");
        _console.GetStringBuilder().Clear();
        Assert.Equal(0, await RunAsync(ada, adminHost, "projections", "status"));
        Assert.Contains("owner", Printed, StringComparison.Ordinal);
        Assert.Contains("lag (s)", Printed, StringComparison.Ordinal);
        Assert.Contains("push", Printed, StringComparison.Ordinal);
        Assert.Equal(ChatctlCommand.Failed, await RunAsync(ada, adminHost, "projections", "restart", "nonesuch"));
        Assert.Contains("404", Printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_shows_the_head_and_rates_every_runner_and_the_live_gateways_and_is_for_admins_only()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        await PostAsync(ada, ch, "hello");
        await using var adminHost = new ChatHost(Db, new() { ["Roles"] = "api", ["Admins"] = ada.UserId });

        Assert.Equal(0, await RunAsync(ada, adminHost, "status", "--refreshes", "0"));
        Assert.Contains("head of the log", Printed, StringComparison.Ordinal);
        foreach (var runner in new[] { "history", "directory", "unread", "search", "push", "notify" })
        {
            Assert.Contains(runner, Printed, StringComparison.Ordinal);
        }
        // The shared host is a gateway: its registry entry (hub URL and connection count) is listed.
        await Eventually.Until(async () =>
        {
            _console.GetStringBuilder().Clear();
            await RunAsync(ada, adminHost, "status", "--refreshes", "0");
            return Printed;
        }, printed => printed.Contains("/v1/gateway", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "a live gateway listed");

        // Refreshed: rates from the change between two readings.
        _console.GetStringBuilder().Clear();
        Assert.Equal(0, await RunAsync(ada, adminHost, "status", "--refreshes", "2", "--interval", "0.2"));
        Assert.Matches(@"appended \d+\.\d events/s", Printed);
        Assert.Contains("applied/s", Printed, StringComparison.Ordinal);

        var bob = await RegisterAsync("bob");
        _console.GetStringBuilder().Clear();
        Assert.Equal(ChatctlCommand.Failed, await RunAsync(bob, adminHost, "status", "--refreshes", "0"));
        Assert.Contains("403", Printed, StringComparison.Ordinal);
    }

    private async Task<DateTime> StartedAtAsync(string name) =>
        await Eventually.Until(
            () => ScalarAsync<DateTime?>("select started_at from projection_status where name = $1 and state = 'running' and started_at is not null", name),
            at => at is not null, TimeSpan.FromSeconds(10), $"{name} running") ?? default;
}
