using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>Counts posts per channel; a text of "boom" makes its SQL fail.</summary>
internal sealed class PostCounter(string name) : Projection
{
    public override string Name => name;

    public override string CreateSql => "create table if not exists counts (channel_id text primary key, posts bigint not null)";

    public PostCounter() : this("test_counts")
    {
    }

    public PostCounter Configure(bool failOnBoom = true)
    {
        On<MessagePosted>((e, c) => c.Sql(
            failOnBoom && e.Text == "boom"
                ? "insert into counts (channel_id, posts) values ($1, 'not a number')"
                : "insert into counts (channel_id, posts) values ($1, 1) on conflict (channel_id) do update set posts = counts.posts + 1",
            e.ChannelId));
        return this;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class ProjectionRunning(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ProjectionRunner> _runners = [];

    public Task InitializeAsync() => db.ResetAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var runner in _runners)
        {
            await runner.StopAsync(CancellationToken.None);
        }
        _stop.Dispose();
    }

    private Task<ProjectionRunner> StartRunner(params Projection[] projections) => StartRunner(ProjectionRunnerOptions.All, projections);

    private async Task<ProjectionRunner> StartRunner(ProjectionRunnerOptions options, params Projection[] projections)
    {
        var (subscription, notifier) = db.CreateSubscription(new EventStoreOptions { SubscriptionBatchSize = 50 });
        await notifier.StartAsync(_stop.Token);
        var runner = new ProjectionRunner(projections, db.DataSource, subscription, new CheckpointStore(db.DataSource),
            new ProjectionSchemas(db.DataSource), options, NullLogger<ProjectionRunner>.Instance);
        await runner.StartAsync(_stop.Token);
        _runners.Add(runner);
        return runner;
    }

    private async Task Post(string channel, string text = "hello") =>
        await _store.AppendAsync($"channel-{channel}", ExpectedVersion.Any, [new EventData(Guid.NewGuid(),
            EventTypes.StoredTypeOf(typeof(MessagePosted)),
            EventTypes.Serialize(new MessagePosted(channel, Guid.NewGuid().ToString("N"), "u1", text, null, Mentions.None)))]);

    private async Task<long> Count(string schema, string channel)
    {
        await using var cmd = db.DataSource.CreateCommand($"select coalesce((select posts from {schema}.counts where channel_id = $1), 0)");
        cmd.Parameters.AddWithValue(channel);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<(string State, long? Position, Guid? EventId)> Status(string name)
    {
        await using var cmd = db.DataSource.CreateCommand("select state, failed_position, failed_event_id from projection_status where name = $1");
        cmd.Parameters.AddWithValue(name);
        await using var r = await cmd.ExecuteReaderAsync();
        return await r.ReadAsync()
            ? (r.GetString(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.IsDBNull(2) ? null : r.GetGuid(2))
            : ("none", null, null);
    }

    [Fact]
    public async Task Two_runners_of_one_projection_apply_each_event_exactly_once()
    {
        await StartRunner(new PostCounter().Configure());
        await StartRunner(new PostCounter().Configure());
        for (var i = 0; i < 300; i++)
        {
            await Post(i % 2 == 0 ? "a" : "b");
        }

        await Eventually.Until(async () => await Count("rm_test_counts", "a") + await Count("rm_test_counts", "b"), n => n >= 300, what: "300 posts");
        await Post("a");
        await Eventually.Until(() => Count("rm_test_counts", "a"), n => n == 151, what: "one more");
        Assert.Equal(150, await Count("rm_test_counts", "b"));
    }

    [Fact]
    public async Task A_runner_limited_by_Projections_Run_owns_only_the_named_projections()
    {
        var included = new PostCounter("test_included").Configure();
        await new ProjectionSchemas(db.DataSource).EnsureAsync(included, included.Schema, default);
        await StartRunner(ProjectionRunnerOptions.Parse(" Test_Included ; other"), included, new PostCounter("test_excluded").Configure());
        await Post("a");
        await Post("a");

        await Eventually.Until(() => Count("rm_test_included", "a"), n => n == 2, what: "the named projection");
        Assert.Equal("none", (await Status("test_excluded")).State);
    }

    [Fact]
    public async Task A_batch_is_never_applied_twice_from_the_same_checkpoint()
    {
        var projection = new PostCounter().Configure();
        await new ProjectionSchemas(db.DataSource).EnsureAsync(projection, projection.Schema, default);
        await Post("a");
        await Post("a");
        // Other hosts' transactions may hold the second event back for a moment.
        var (events, _) = await Eventually.Until(() => _store.ReadSubscriptionBatchAsync(LogCursor.Start, 10), r => r.Events.Count == 2, what: "both events");
        var runner = await StartRunner();
        var batch = new EventBatch(events, events[^1].Cursor);

        await runner.ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, LogCursor.Start, batch, default);
        await Assert.ThrowsAsync<LostLeaseException>(() =>
            runner.ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, LogCursor.Start, batch, default));

        Assert.Equal(2, await Count(projection.Schema, "a"));
    }

    [Fact]
    public async Task A_batch_locks_no_read_model_table_before_it_holds_its_switch_lock()
    {
        // A rebuild's switch-over (and the test reset) take the switch lock exclusively and then lock the tables: a batch
        // that locked a table first (parsing a statement does) could deadlock with them.
        var projection = new PostCounter().Configure();
        await new ProjectionSchemas(db.DataSource).EnsureAsync(projection, projection.Schema, default);
        await Post("a");
        var (events, _) = await Eventually.Until(() => _store.ReadSubscriptionBatchAsync(LogCursor.Start, 10), r => r.Events.Count == 1, what: "the event");
        // Its own pool: statements already prepared on a pooled connection would not be parsed (and lock) again.
        await using var fresh = NpgsqlDataSource.Create(db.ConnectionString + ";Application Name=switch-lock-test");
        var runner = new ProjectionRunner([], fresh, db.CreateSubscription().Subscription, new CheckpointStore(fresh),
            new ProjectionSchemas(fresh), ProjectionRunnerOptions.All, NullLogger<ProjectionRunner>.Instance);
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockSwitch = new NpgsqlCommand("select pg_advisory_xact_lock($1)", holder, hold))
        {
            lockSwitch.Parameters.AddWithValue(ProjectionSchemas.SwitchKey(projection));
            await lockSwitch.ExecuteNonQueryAsync();
        }

        var applying = runner.ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, LogCursor.Start,
            new EventBatch(events, events[^1].Cursor), default);
        await Eventually.Until(() => Scalar("""
            select count(*) from pg_locks
             where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())
            """), n => n >= 1, what: "the batch to wait for the switch lock");
        var tablesLocked = await Scalar($"""
            select count(*) from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace s on s.oid = c.relnamespace
             where s.nspname = '{projection.Schema}' and l.pid <> pg_backend_pid()
            """);
        await hold.CommitAsync();
        await applying;

        Assert.Equal(0, tablesLocked);
        Assert.Equal(1, await Count(projection.Schema, "a"));
    }

    private async Task<long> Scalar(string sql)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_failing_projection_stops_at_the_bad_event_and_the_others_go_on()
    {
        var failing = new PostCounter("test_failing").Configure();
        var healthy = new PostCounter("test_healthy").Configure(failOnBoom: false);
        await StartRunner(failing, healthy);
        await Post("a");
        await Post("a");
        await Post("a", "boom");
        var bad = (await _store.ReadStreamAsync("channel-a", 3, 1))[0];
        await Post("a");

        var status = await Eventually.Until(() => Status("test_failing"), s => s.State == "failed", what: "the failure");
        await Eventually.Until(() => Count("rm_test_healthy", "a"), n => n == 4, what: "the healthy projection");

        Assert.Equal((bad.Position, bad.EventId), (status.Position!.Value, status.EventId!.Value));
        // The events before the bad one are applied, nothing after it.
        Assert.Equal(2, await Count("rm_test_failing", "a"));
        Assert.Equal(2, (await new CheckpointStore(db.DataSource).LoadAsync("projection:test_failing")).Position);
        Assert.Equal("running", (await Status("test_healthy")).State);
    }
}
