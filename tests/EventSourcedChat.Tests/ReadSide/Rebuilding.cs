using System.Net;
using System.Text.Json;
using EventSourcedChat.EventStore;
using EventSourcedChat.Projections.Directory;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.ReadSide;

public sealed class Rebuilding(PostgresFixture db) : ApiTest(db)
{
    private static readonly string[] DirectoryTables = ["users", "workspaces", "workspace_members", "channels", "channel_members"];

    /// <summary>Builds a projection from position 0 into <paramref name="schema"/>, as a reference.</summary>
    private async Task BuildFromScratchAsync(Projection projection, string schema, int batchSize = 500)
    {
        await using (var drop = Db.DataSource.CreateCommand($"drop schema if exists {schema} cascade; delete from es_checkpoints where name = 'check:{schema}'"))
        {
            await drop.ExecuteNonQueryAsync();
        }
        await new ProjectionSchemas(Db.DataSource).EnsureAsync(projection, schema, default);
        var store = Db.CreateStore();
        var total = await CountAsync("select count(*) from es_events");
        long read = 0;
        var at = LogCursor.Start;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (read < total)
        {
            // Subscriptions see a transaction's events once no older transaction is open anywhere on the server.
            var (events, _) = await store.ReadSubscriptionBatchAsync(at, batchSize);
            if (events.Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the log stayed invisible after {read} of {total} events");
                await Task.Delay(20);
                continue;
            }
            await using var conn = await Db.DataSource.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            await ProjectionRunner.ApplyInTransactionAsync(tx, projection, schema, $"check:{schema}", at, events, false, default);
            await tx.CommitAsync();
            at = events[^1].Cursor;
            read += events.Count;
        }
    }

    private async Task<long> RowsDifferingAsync(string left, string right, IEnumerable<string>? tables = null)
    {
        long differing = 0;
        foreach (var table in tables ?? DirectoryTables)
        {
            await using var cmd = Db.DataSource.CreateCommand($"""
                select (select count(*) from (select * from {left}.{table} except select * from {right}.{table}) a)
                     + (select count(*) from (select * from {right}.{table} except select * from {left}.{table}) b)
                """);
            differing += (long)(await cmd.ExecuteScalarAsync())!;
        }
        return differing;
    }

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
            await BuildFromScratchAsync(projection, "check_one", batchSize: 1);
            await BuildFromScratchAsync(projection, "check_all", batchSize: 10_000);
            var tables = await TablesAsync("check_one");

            long rows = 0;
            foreach (var table in tables)
            {
                rows += await CountAsync($"select count(*) from check_all.{table}");
            }

            Assert.True(rows > 5, $"{projection.Name} built only {rows} rows");
            Assert.Equal(0, await RowsDifferingAsync("check_one", "check_all", tables));
        }
    }

    private async Task<List<string>> TablesAsync(string schema)
    {
        await using var cmd = Db.DataSource.CreateCommand("select tablename from pg_tables where schemaname = $1 order by 1");
        cmd.Parameters.AddWithValue(schema);
        var tables = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tables.Add(reader.GetString(0));
        }
        return tables;
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
        await BuildFromScratchAsync(new DirectoryProjection(), "rm_directory_check");
        Assert.Equal(0, await RowsDifferingAsync("rm_directory", "rm_directory_check"));
        Assert.Equal(0, await CountAsync("select count(*) from pg_namespace where nspname in ('rm_directory_rebuild', 'rm_directory_old')"));
    }

    [Fact]
    public async Task Only_instance_admins_see_projection_status()
    {
        var bob = await RegisterAsync("bob");

        await bob.Problem("GET", "/v1/admin/projections", null, HttpStatusCode.Forbidden, "forbidden");
        await bob.Problem("POST", "/v1/admin/projections/directory/rebuild", null, HttpStatusCode.Forbidden, "forbidden");
    }
}
