using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>Where a push worker with no checkpoint starts (a new deployment on a log that already holds events).</summary>
public sealed class PushStart(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task A_new_push_worker_starts_after_the_events_appended_before_it_started_and_sends_the_later_ones()
    {
        var name = $"{PostgresFixture.DatabaseName}_pushstart";
        await PostgresFixture.CreateDatabaseAsync(name, dropFirst: true);
        var database = Own(NpgsqlDataSource.Create(PostgresFixture.WithDatabase(name)));
        await new Migrator(database).ApplyAsync(TestAssemblies.Migrations);
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = PostgresFixture.WithDatabase(name),
            ["Realtime:Exchange"] = $"chat.events.{name}",
            ["Redis:Prefix"] = $"esc_tests_pushstart:{Guid.NewGuid():N}:",
        };
        var api = ExtraHost("api", settings);
        var ada = await RegisterAsync("ada", api);
        var ws = await WorkspaceAsync(ada);
        var general = await ChannelAsync(ada, ws, "general");
        await PostAsync(ada, general, "before the worker");
        var head = await ScalarAsync(database, "select max(position) from es_events");

        _ = ExtraHost("projector", settings);

        // Its checkpoint is the last event appended before it started: the history is not sent again.
        var start = await Eventually.Until(() => ScalarAsync(database, "select position from es_checkpoints where name = 'push'"),
            at => at is not null, TimeSpan.FromSeconds(30), "the new push worker's checkpoint");
        Assert.Equal(head, start);
        // What is appended afterwards is sent (and confirmed: the checkpoint passes it).
        var (_, after) = await PostAsync(ada, general, "after the worker started");
        await Eventually.Until(() => ScalarAsync(database, "select position from es_checkpoints where name = 'push'"),
            at => at >= after, TimeSpan.FromSeconds(30), "the push worker to send the later post");
    }

    private static async Task<long?> ScalarAsync(NpgsqlDataSource database, string sql)
    {
        await using var cmd = database.CreateCommand(sql);
        return await cmd.ExecuteScalarAsync() is long value ? value : null;
    }
}
