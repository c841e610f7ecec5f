using System.Net;
using System.Text.Json;
using EventSourcedChat.Projections.Directory;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.ReadSide;

public sealed class Rebuilding(PostgresFixture db) : ApiTest(db)
{
    private async Task<long> CountAsync(string sql)
    {
        await using var cmd = Db.DataSource.CreateCommand(sql);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Applying_the_log_in_one_batch_gives_the_same_rows_as_one_event_at_a_time()
    {
        // Runs of posts are applied as one statement per run; this log mixes runs with everything that cuts them:
        // replies (to roots inside and outside the run), mentions, @channel, edits, deletes, reactions, joins, leaves
        // and read markers, in two channels.
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws);
        var random = await ChannelAsync(bob, ws, "random");
        await bob.Ok("POST", $"/v1/channels/{general}/join");
        await ada.Ok("POST", $"/v1/channels/{random}/join");
        var roots = new List<long>();
        for (var i = 0; i < 12; i++)
        {
            var (author, channel) = (i % 3 == 0 ? bob : ada, i % 4 == 0 ? random : general);
            var text = (i % 5) switch { 1 => $"hi <@{bob.UserId}>", 2 => "@channel look", _ => $"m{i}" };
            var posted = await author.Ok("POST", $"/v1/channels/{channel}/messages", new { text }, HttpStatusCode.Created);
            if (channel == general)
            {
                roots.Add(posted.GetProperty("seq").GetInt64());
            }
            if (i % 4 == 1)
            {
                await ada.Ok("POST", $"/v1/channels/{general}/messages", new { text = "reply", threadRootSeq = roots[^1] }, HttpStatusCode.Created);
                await bob.Ok("POST", $"/v1/channels/{general}/messages", new { text = "to an older root", threadRootSeq = roots[0] }, HttpStatusCode.Created);
            }
        }
        var root = (await ada.Ok("POST", $"/v1/channels/{general}/messages", new { text = "root" }, HttpStatusCode.Created)).GetProperty("seq").GetInt64();
        var reply = (await bob.Ok("POST", $"/v1/channels/{general}/messages", new { text = "r1", threadRootSeq = root }, HttpStatusCode.Created)).GetProperty("seq").GetInt64();
        await bob.Ok("POST", $"/v1/channels/{general}/messages", new { text = "r2", threadRootSeq = root }, HttpStatusCode.Created);
        await bob.Ok("PATCH", $"/v1/channels/{general}/messages/{reply}", new { text = $"edited <@{ada.UserId}>" });
        await bob.Ok("DELETE", $"/v1/channels/{general}/messages/{reply}");
        await ada.Ok("PUT", $"/v1/channels/{general}/messages/{root}/reactions/thumbsup");
        await bob.Ok("POST", $"/v1/channels/{general}/read", new { seq = root });
        await bob.Ok("POST", $"/v1/channels/{general}/leave");
        await ada.Ok("POST", $"/v1/channels/{general}/messages", new { text = "after bob left" }, HttpStatusCode.Created);

        Projection[] projections = [new DirectoryProjection(), new Projections.History.HistoryProjection(),
            new Projections.Unread.UnreadProjection(), new Projections.Search.SearchProjection()];
        foreach (var projection in projections)
        {
            await RebuildComparison.BuildFromScratchAsync(Db.DataSource, projection, "check_one", batchSize: 1);
            await RebuildComparison.BuildFromScratchAsync(Db.DataSource, projection, "check_all", batchSize: 10_000);
            var tables = await RebuildComparison.TablesAsync(Db.DataSource, "check_one");

            long rows = 0;
            foreach (var table in tables)
            {
                rows += await CountAsync($"select count(*) from check_all.{table}");
            }

            Assert.True(rows > 5, $"{projection.Name} built only {rows} rows");
            Assert.Equal(0, await RebuildComparison.RowsDifferingAsync(Db.DataSource, "check_one", "check_all", tables));
        }
    }

    [Fact]
    public async Task A_rebuild_under_load_switches_over_and_equals_a_build_from_scratch()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws);
        await bob.Ok("POST", $"/v1/channels/{general}/join");
        await ChannelAsync(bob, ws, "secret", isPrivate: true);
        for (var i = 0; i < 20; i++)
        {
            await ada.Ok("POST", $"/v1/channels/{general}/messages", new { text = $"m{i}" }, HttpStatusCode.Created);
        }
        await using var adminHost = new ChatHost(Db, new() { ["Admins"] = ada.UserId });
        var admin = ada with { Client = adminHost.CreateClient() };
        admin.Client.DefaultRequestHeaders.Authorization = ada.Client.DefaultRequestHeaders.Authorization;

        await admin.Ok("POST", "/v1/admin/projections/directory/rebuild", null, HttpStatusCode.Accepted);
        // The live projection keeps serving and moving while the rebuild runs.
        var last = 0L;
        var n = 0;
        JsonElement status;
        do
        {
            last = (await bob.Ok("POST", $"/v1/workspaces/{ws}/channels", new { name = $"during-{n++}" }, HttpStatusCode.Created))
                .GetProperty("position").GetInt64();
            status = (await admin.Ok("GET", "/v1/admin/projections")).EnumerateArray().Single(p => p.GetProperty("name").GetString() == "directory");
        }
        while (status.GetProperty("rebuild").GetProperty("state").GetString() == "rebuilding" && n < 500);

        Assert.Equal("switched", status.GetProperty("rebuild").GetProperty("state").GetString());
        last = (await bob.Ok("POST", $"/v1/workspaces/{ws}/channels", new { name = "after-switch" }, HttpStatusCode.Created))
            .GetProperty("position").GetInt64();
        Assert.True(await ReadYourWrites.CaughtUpAsync(Db.DataSource, last, ["projection:directory"], default));

        Assert.Equal(n + 3, await CountAsync($"select count(*) from rm_directory.channels where workspace_id = '{ws}'"));
        await RebuildComparison.BuildFromScratchAsync(Db.DataSource, new DirectoryProjection(), "rm_directory_check");
        Assert.Equal(0, await RebuildComparison.RowsDifferingAsync(Db.DataSource, "rm_directory", "rm_directory_check"));
        Assert.Equal(0, await CountAsync("select count(*) from pg_namespace where nspname in ('rm_directory_rebuild', 'rm_directory_old')"));
    }

    [Fact]
    public async Task History_pages_answer_the_same_on_every_host_after_a_history_rebuild_switches_over()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var general = await ChannelAsync(ada, ws);
        var seqs = new List<long>();
        for (var i = 0; i < 12; i++)
        {
            seqs.Add((await ada.Ok("POST", $"/v1/channels/{general}/messages", new { text = $"m{i}" }, HttpStatusCode.Created))
                .GetProperty("seq").GetInt64());
        }
        await ada.Ok("PUT", $"/v1/channels/{general}/messages/{seqs[3]}/reactions/eyes");
        await using var adminHost = new ChatHost(Db, new() { ["Admins"] = ada.UserId });
        var admin = ada with { Client = adminHost.CreateClient() };
        admin.Client.DefaultRequestHeaders.Authorization = ada.Client.DefaultRequestHeaders.Authorization;
        var position = (await ada.Ok("POST", $"/v1/channels/{general}/messages", new { text = "m12" }, HttpStatusCode.Created))
            .GetProperty("position").GetInt64();
        // Both hosts read the page before the switch-over, with pooled connections that will outlive the old tables.
        var before = "";
        for (var i = 0; i < 10; i++)
        {
            before = (await ada.Ok("GET", $"/v1/channels/{general}/messages?limit=5&minPosition={position}")).GetRawText();
            Assert.Equal(before, (await admin.Ok("GET", $"/v1/channels/{general}/messages?limit=5&minPosition={position}")).GetRawText());
        }

        await admin.Ok("POST", "/v1/admin/projections/history/rebuild", null, HttpStatusCode.Accepted);
        await Eventually.Until(
            async () => (await admin.Ok("GET", "/v1/admin/projections")).EnumerateArray()
                .Single(p => p.GetProperty("name").GetString() == "history").GetProperty("rebuild").GetProperty("state").GetString(),
            state => state == "switched", TimeSpan.FromSeconds(30), "the history rebuild to switch over");

        foreach (var reader in new[] { ada, admin })
        {
            Assert.Equal(before, (await reader.Ok("GET", $"/v1/channels/{general}/messages?limit=5")).GetRawText());
        }
        position = (await ada.Ok("POST", $"/v1/channels/{general}/messages", new { text = "after the switch" }, HttpStatusCode.Created))
            .GetProperty("position").GetInt64();
        foreach (var reader in new[] { ada, admin })
        {
            var page = await reader.Ok("GET", $"/v1/channels/{general}/messages?limit=20&minPosition={position}");
            var texts = page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
            Assert.Equal(Enumerable.Range(0, 13).Select(i => $"m{i}").Append("after the switch").Reverse(), texts);
            var reacted = page.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("seq").GetInt64() == seqs[3]);
            Assert.Equal("eyes", reacted.GetProperty("reactions")[0].GetProperty("emoji").GetString());
        }
    }

    [Fact]
    public async Task Only_instance_admins_see_projection_status()
    {
        var bob = await RegisterAsync("bob");

        await bob.Problem("GET", "/v1/admin/projections", null, HttpStatusCode.Forbidden, "forbidden");
        await bob.Problem("POST", "/v1/admin/projections/directory/rebuild", null, HttpStatusCode.Forbidden, "forbidden");
    }
}
