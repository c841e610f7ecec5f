using System.Net;
using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using EventSourcedChat.EventStore.Telemetry;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>What an operator sees and does when a projection fails or a rebuild is asked twice: readiness, status, restart.</summary>
public sealed class ProjectionOperations(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task A_failed_projection_makes_ready_degraded_until_a_restart_asked_on_another_node_resumes_it()
    {
        // A database of its own: the failure must not reach the shared host's projections.
        var database = $"esc_tests_ops_{Guid.NewGuid():N}"[..30];
        await PostgresFixture.CreateDatabaseAsync(database, dropFirst: true);
        var connection = PostgresFixture.WithDatabase(database);
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = connection,
            ["Realtime:Exchange"] = $"chat.events.{database}",
            ["Telemetry:LagSampleInterval"] = "00:00:00.2",
        };
        await using var owner = new ChatHost(Db, settings);
        using var metrics = new MetricsRecorder(owner);
        var ada = await RegisterAsync("ada", owner);
        var ws = await WorkspaceAsync(ada);
        var general = await ChannelAsync(ada, ws);
        await using var other = new ChatHost(Db, new(settings) { ["Roles"] = "api", ["Admins"] = ada.UserId });
        var admin = ada with { Client = other.CreateClient() };
        admin.Client.DefaultRequestHeaders.Authorization = ada.Client.DefaultRequestHeaders.Authorization;

        // An event the history (and search) projection cannot apply: a message without text breaks their not-null column.
        await using var source = NpgsqlDataSource.Create(connection);
        var store = new PostgresEventStore(source, new EventStoreOptions(), TimeProvider.System);
        var bad = await store.AppendAsync($"channel-{general}", ExpectedVersion.Any, [new EventData(Guid.NewGuid(),
            EventTypes.StoredTypeOf(typeof(MessagePosted)), """{"channelId":"%c","messageId":"m1","userId":"%u","text":null}"""
                .Replace("%c", general, StringComparison.Ordinal).Replace("%u", ada.UserId, StringComparison.Ordinal))]);
        var failed = await Eventually.Until(() => StateAsync(admin, "history"), s => s.GetProperty("state").GetString() == "failed",
            TimeSpan.FromSeconds(30), "the history projection to fail");

        Assert.Equal(bad.Position, failed.GetProperty("failedPosition").GetInt64());
        Assert.Contains(":", failed.GetProperty("owner").GetString());
        foreach (var node in new[] { ada, admin })
        {
            var ready = await node.Ok("GET", "/health/ready");
            Assert.Equal("degraded", ready.GetProperty("status").GetString());
            var projections = ready.GetProperty("dependencies").GetProperty("projections");
            Assert.Equal("degraded", projections.GetProperty("status").GetString());
            Assert.Contains($"history failed at position {bad.Position}", projections.GetProperty("detail").GetString());
        }
        // The stopped projection's lag grows in the metrics too: at least the event it failed on, waiting for a while.
        await Eventually.Until(() => metrics.Latest(ChatMetrics.RunnerLagEvents, ChatMetrics.RunnerTag, "history") >= 1
            && metrics.Latest(ChatMetrics.RunnerLagSeconds, ChatMetrics.RunnerTag, "history") > 0, TimeSpan.FromSeconds(10), "history's lag above zero");

        // The fix is deployed (here: the event's data is mended), and the operator restarts from the other node.
        await using (var mend = source.CreateCommand("update es_events set data = jsonb_set(data, '{text}', '\"mended\"') where position = $1"))
        {
            mend.Parameters.AddWithValue(bad.Position);
            await mend.ExecuteNonQueryAsync();
        }
        foreach (var name in new[] { "history", "search" })
        {
            await admin.Ok("POST", $"/v1/admin/projections/{name}/restart", null, HttpStatusCode.Accepted);
        }

        foreach (var name in new[] { "history", "search" })
        {
            await Eventually.Until(() => StateAsync(admin, name),
                s => s.GetProperty("state").GetString() == "running" && s.GetProperty("lagEvents").GetInt64() == 0,
                TimeSpan.FromSeconds(20), $"the {name} projection to run again and catch up");
        }
        await Eventually.Until(() => metrics.Latest(ChatMetrics.RunnerLagEvents, ChatMetrics.RunnerTag, "history") == 0,
            TimeSpan.FromSeconds(10), "history's lag back to zero");
        var page = await ada.Ok("GET", $"/v1/channels/{general}/messages?minPosition={bad.Position}");
        Assert.Equal("mended", page.GetProperty("messages")[0].GetProperty("text").GetString());
        await Eventually.Until(async () => (await ada.Ok("GET", "/health/ready")).GetProperty("status").GetString(), s => s == "healthy",
            TimeSpan.FromSeconds(10), "readiness to be healthy again");
        await admin.Problem("POST", "/v1/admin/projections/nonesuch/restart", null, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Two_nodes_asked_to_rebuild_a_projection_at_once_run_one_rebuild_and_refuse_the_other()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        await ChannelAsync(ada, ws);
        var settings = new Dictionary<string, string?> { ["Roles"] = "api", ["Admins"] = ada.UserId };
        await using var one = new ChatHost(Db, settings);
        await using var two = new ChatHost(Db, settings);
        var (first, second) = (ada with { Client = one.CreateClient() }, ada with { Client = two.CreateClient() });
        first.Client.DefaultRequestHeaders.Authorization = second.Client.DefaultRequestHeaders.Authorization = ada.Client.DefaultRequestHeaders.Authorization;

        await using (var hold = await Db.DataSource.OpenConnectionAsync())
        await using (var tx = await hold.BeginTransactionAsync())
        {
            // The switch lock held: the first rebuild catches up, then waits at its switch-over, still running.
            await using (var lockSwitch = new NpgsqlCommand("select pg_advisory_xact_lock($1)", hold, tx))
            {
                lockSwitch.Parameters.AddWithValue(ProjectionSchemas.SwitchKey(new Projections.Directory.DirectoryProjection()));
                await lockSwitch.ExecuteNonQueryAsync();
            }
            await first.Ok("POST", "/v1/admin/projections/directory/rebuild", null, HttpStatusCode.Accepted);

            await second.Problem("POST", "/v1/admin/projections/directory/rebuild", null, HttpStatusCode.Conflict, "conflict");
            await first.Problem("POST", "/v1/admin/projections/directory/rebuild", null, HttpStatusCode.Conflict, "conflict");
            await second.Ok("POST", "/v1/admin/projections/unread/rebuild", null, HttpStatusCode.Accepted); // another projection is free
            await tx.CommitAsync();
        }

        await Eventually.Until(async () => (await StateAsync(first, "directory")).GetProperty("rebuild").GetProperty("state").GetString(),
            s => s == "switched", TimeSpan.FromSeconds(30), "the first rebuild to switch over");
        await Eventually.Until(async () => (await StateAsync(second, "unread")).GetProperty("rebuild").GetProperty("state").GetString(),
            s => s == "switched", TimeSpan.FromSeconds(30), "the unread rebuild to switch over");
        // Once it is done, the lock is free for the next rebuild, from any node.
        await second.Ok("POST", "/v1/admin/projections/directory/rebuild", null, HttpStatusCode.Accepted);
        await Eventually.Until(async () => (await StateAsync(second, "directory")).GetProperty("rebuild").GetProperty("state").GetString(),
            s => s == "switched", TimeSpan.FromSeconds(30), "the second rebuild to switch over");
    }

    private static async Task<JsonElement> StateAsync(TestUser admin, string name) =>
        (await admin.Ok("GET", "/v1/admin/projections")).EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);
}
