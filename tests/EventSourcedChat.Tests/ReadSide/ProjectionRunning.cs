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

    /// <summary>Whether "boom" fails; a test turns it off to play the fix that an operator deploys before a restart.</summary>
    public bool FailOnBoom { get; set; } = true;

    public override string CreateSql => "create table if not exists counts (channel_id text primary key, posts bigint not null)";

    public PostCounter() : this("test_counts")
    {
    }

    public PostCounter Configure(bool failOnBoom = true)
    {
        FailOnBoom = failOnBoom;
        On<MessagePosted>((e, c) => c.Sql(
            FailOnBoom && e.Text == "boom"
                ? "insert into counts (channel_id, posts) values ($1, 'not a number')"
                : "insert into counts (channel_id, posts) values ($1, 1) on conflict (channel_id) do update set posts = counts.posts + 1",
            e.ChannelId));
        return this;
    }
}

/// <summary>
/// One row per message, keyed by (channel, seq), with a plain insert: like the history and unread projections, applying
/// an event twice is a duplicate key, which no retry can fix.
/// </summary>
internal sealed class MessageRows : Projection
{
    public override string Name => "test_message_rows";

    public override string CreateSql => "create table if not exists rows (channel_id text, seq bigint, text text, primary key (channel_id, seq))";

    public MessageRows() =>
        On<MessagePosted>((e, c) => c.Sql("insert into rows (channel_id, seq, text) values ($1, $2, $3)", e.ChannelId, c.Seq, e.Text));
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

    [Fact]
    public async Task A_batch_whose_checkpoint_was_deleted_under_it_writes_nothing()
    {
        var projection = new MessageRows();
        await new ProjectionSchemas(db.DataSource).EnsureAsync(projection, projection.Schema, default);
        await Post("a", "one");
        await Post("a", "two");
        var (events, _) = await Eventually.Until(() => _store.ReadSubscriptionBatchAsync(LogCursor.Start, 10), r => r.Events.Count == 2, what: "both events");
        var runner = await StartRunner();
        await runner.ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, LogCursor.Start, new EventBatch([events[0]], events[0].Cursor), default);
        await new CheckpointStore(db.DataSource).DeleteAsync(projection.CheckpointName);

        await Assert.ThrowsAsync<LostLeaseException>(() => runner.ApplyBatchAsync(
            projection, projection.Schema, projection.CheckpointName, events[0].Cursor, new EventBatch([events[1]], events[1].Cursor), default));

        Assert.Equal(1, await Scalar($"select count(*) from {projection.Schema}.rows"));
        Assert.Equal(LogCursor.Start, await new CheckpointStore(db.DataSource).LoadAsync(projection.CheckpointName));
    }

    [Fact]
    public async Task A_batch_whose_checkpoint_was_moved_past_it_gives_way_instead_of_failing_on_its_own_rows()
    {
        // What a rebuild's switch-over does to the live runner when the rebuild got further: the checkpoint jumps ahead,
        // the rows are already there, and the live runner's batch must yield (reload) rather than hit a duplicate key.
        var projection = new MessageRows();
        await new ProjectionSchemas(db.DataSource).EnsureAsync(projection, projection.Schema, default);
        await Post("a", "one");
        await Post("a", "two");
        var (events, _) = await Eventually.Until(() => _store.ReadSubscriptionBatchAsync(LogCursor.Start, 10), r => r.Events.Count == 2, what: "both events");
        var live = await StartRunner();
        var other = await StartRunner();
        await live.ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, LogCursor.Start, new EventBatch([events[0]], events[0].Cursor), default);
        await other.ApplyBatchAsync(projection, projection.Schema, projection.CheckpointName, events[0].Cursor, new EventBatch([events[1]], events[1].Cursor), default);

        await Assert.ThrowsAsync<LostLeaseException>(() => live.ApplyBatchAsync(
            projection, projection.Schema, projection.CheckpointName, events[0].Cursor, new EventBatch([events[1]], events[1].Cursor), default));

        Assert.Equal(2, await Scalar($"select count(*) from {projection.Schema}.rows"));
    }

    [Fact]
    public async Task A_projection_that_applied_nothing_yet_goes_on_when_the_log_is_emptied_under_the_first_batch_it_read()
    {
        // The same stall from a runner still at the start of the log (it had applied nothing since the previous reset):
        // there is no checkpoint row to fence its first batch, so the stale batch of the old log must be refused anyway.
        var projection = new MessageRows();
        await new ProjectionSchemas(db.DataSource).EnsureAsync(projection, projection.Schema, default);
        await StartRunner(projection);

        await ResetWhileTheRunnerWaitsWithABatchAsync(projection, "before the reset");
        await Post("a", "after the reset"); // seq 1, as the stale "before the reset" was

        var text = await Eventually.Until(() => TextsAsync(projection), t => t == "after the reset", what: "only the post appended after the reset");
        Assert.Equal("after the reset", text);
        await Post("a", "and again");
        await Eventually.Until(() => Scalar($"select count(*) from {projection.Schema}.rows"), n => n == 2, what: "the next post");
        Assert.Equal("running", (await Status(projection.Name)).State);
    }

    [Fact]
    public async Task A_projection_goes_on_when_the_log_is_emptied_under_a_batch_it_already_read()
    {
        // The clean-clone stall: the test reset truncated the log while a runner held a batch it had read; the runner
        // applied it to the emptied tables (its checkpoint row was gone, so nothing fenced it), and the next test's event
        // with the same (channel, seq) was a duplicate key: the projection stopped for good.
        var projection = new MessageRows();
        await new ProjectionSchemas(db.DataSource).EnsureAsync(projection, projection.Schema, default);
        await StartRunner(projection);
        await Post("a", "first");
        await Eventually.Until(() => Scalar($"select count(*) from {projection.Schema}.rows"), n => n == 1, what: "the first post");

        await ResetWhileTheRunnerWaitsWithABatchAsync(projection, "before the reset");
        await Post("a", "after the reset");
        await Post("a", "and again"); // seq 2, as the stale "before the reset" was

        var text = await Eventually.Until(() => TextsAsync(projection), t => t == "after the reset,and again", what: "only the posts appended after the reset");
        Assert.Equal("after the reset,and again", text);
        Assert.Equal("running", (await Status(projection.Name)).State);
    }

    /// <summary>
    /// What the test reset does to a runner between two tests: holding the projection's switch lock, posts
    /// <paramref name="text"/> to channel "a" and waits until the runner has read it and waits for the lock with it,
    /// then empties every table (<see cref="PostgresFixture.TruncateAsync"/>) and lets the runner go with its stale batch.
    /// </summary>
    private async Task ResetWhileTheRunnerWaitsWithABatchAsync(Projection projection, string text)
    {
        await using var reset = await db.DataSource.OpenConnectionAsync();
        await using var tx = await reset.BeginTransactionAsync();
        await using (var lockSwitch = new NpgsqlCommand("select pg_advisory_xact_lock($1)", reset, tx))
        {
            lockSwitch.Parameters.AddWithValue(ProjectionSchemas.SwitchKey(projection));
            await lockSwitch.ExecuteNonQueryAsync();
        }
        await Post("a", text);
        await Eventually.Until(() => Scalar("""
            select count(*) from pg_locks
             where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())
            """), n => n >= 1, what: "the runner to wait with the batch it read");
        await PostgresFixture.TruncateAsync(tx);
        await tx.CommitAsync();
    }

    private async Task<string?> TextsAsync(MessageRows projection)
    {
        await using var cmd = db.DataSource.CreateCommand($"select string_agg(text, ',' order by seq) from {projection.Schema}.rows");
        return await cmd.ExecuteScalarAsync() as string;
    }

    [Fact]
    public async Task A_projection_whose_table_is_dropped_under_it_recreates_it_and_goes_on()
    {
        // An error of the environment that PostgreSQL reports as permanent (the table is gone): retried, never a stop.
        var counter = new PostCounter("test_dropped").Configure();
        await new ProjectionSchemas(db.DataSource).EnsureAsync(counter, counter.Schema, default);
        await StartRunner(counter);
        await Post("a");
        await Eventually.Until(() => Count(counter.Schema, "a"), n => n == 1, what: "the first post");
        await using (var drop = db.DataSource.CreateCommand($"drop table {counter.Schema}.counts"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        await Post("a");

        await Eventually.Until(async () =>
        {
            try
            {
                return await Count(counter.Schema, "a");
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                return -1; // not recreated yet
            }
        }, n => n == 1, TimeSpan.FromSeconds(20), "the post after the drop, in the recreated table");
        var checkpoint = await new CheckpointStore(db.DataSource).LoadAsync(counter.CheckpointName);
        Assert.Equal(2, checkpoint.Position);
        Assert.NotEqual("failed", (await Status(counter.Name)).State);
    }

    [Fact]
    public async Task A_failed_projection_keeps_its_place_until_a_restart_then_applies_the_event_it_failed_on()
    {
        var counter = new PostCounter("test_restarted").Configure();
        await StartRunner(counter);
        await Post("a");
        await Post("a", "boom");
        var failed = await Eventually.Until(() => Status(counter.Name), s => s.State == "failed", TimeSpan.FromSeconds(20), "the failure");
        await Post("a");

        counter.FailOnBoom = false; // the fix is deployed
        await new RunnerStatus(db.DataSource).RequestRestartAsync(counter.Name, default);

        await Eventually.Until(() => Count(counter.Schema, "a"), n => n == 3, TimeSpan.FromSeconds(10), "the bad event and the one after it");
        Assert.Equal(2, failed.Position);
        Assert.Equal("running", (await Status(counter.Name)).State);
    }
}
