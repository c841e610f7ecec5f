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
    private async Task BuildFromScratchAsync(Projection projection, string schema)
    {
        await using (var drop = Db.DataSource.CreateCommand($"drop schema if exists {schema} cascade"))
        {
            await drop.ExecuteNonQueryAsync();
        }
        await new ProjectionSchemas(Db.DataSource).EnsureAsync(projection, schema, default);
        var store = Db.CreateStore();
        var at = LogCursor.Start;
        while (true)
        {
            var (events, _) = await store.ReadSubscriptionBatchAsync(at, 500);
            if (events.Count == 0)
            {
                return;
            }
            await using var conn = await Db.DataSource.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            await ProjectionRunner.ApplyInTransactionAsync(tx, projection, schema, $"check:{schema}", at, events, false, default);
            await tx.CommitAsync();
            at = events[^1].Cursor;
        }
    }

    private async Task<long> RowsDifferingAsync(string left, string right)
    {
        long differing = 0;
        foreach (var table in DirectoryTables)
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
