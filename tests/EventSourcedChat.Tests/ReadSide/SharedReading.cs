using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>
/// The projections of a node read the log once: those that caught up apply each batch together, in one transaction,
/// each with its own checkpoint row; one that is blocked, failed or rebuilt leaves the others running.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SharedReading(PostgresFixture db) : IAsyncLifetime
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

    private Task StartRunner(params Projection[] projections) => StartRunner(new EventStoreOptions { SubscriptionBatchSize = 50 }, projections);

    private async Task StartRunner(EventStoreOptions options, params Projection[] projections)
    {
        var (subscription, notifier) = db.CreateSubscription(options);
        await notifier.StartAsync(_stop.Token);
        foreach (var projection in projections)
        {
            await new ProjectionSchemas(db.DataSource).EnsureAsync(projection, projection.Schema, default);
        }
        var runner = new ProjectionRunner(projections, db.DataSource, subscription, new CheckpointStore(db.DataSource),
            new ProjectionSchemas(db.DataSource), ProjectionRunnerOptions.All, NullLogger<ProjectionRunner>.Instance);
        await runner.StartAsync(_stop.Token);
        _runners.Add(runner);
    }

    private async Task<Guid> Post(string channel, string text = "hello")
    {
        var id = Guid.NewGuid();
        await _store.AppendAsync($"channel-{channel}", ExpectedVersion.Any, [new EventData(id,
            EventTypes.StoredTypeOf(typeof(MessagePosted)),
            EventTypes.Serialize(new MessagePosted(channel, Guid.NewGuid().ToString("N"), "u1", text, null, Mentions.None)))]);
        return id;
    }

    private async Task<long> Scalar(string sql)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private Task<long> Posts(Projection counter) => Scalar($"select coalesce(sum(posts), 0) from {counter.Schema}.counts");

    private async Task<(string State, Guid? EventId)> Status(string name)
    {
        await using var cmd = db.DataSource.CreateCommand("select state, failed_event_id from projection_status where name = $1");
        cmd.Parameters.AddWithValue(name);
        await using var r = await cmd.ExecuteReaderAsync();
        return await r.ReadAsync() ? (r.GetString(0), r.IsDBNull(1) ? null : r.GetGuid(1)) : ("none", null);
    }

    private static async Task<NpgsqlTransaction> HoldSwitchLockAsync(NpgsqlConnection holder, Projection projection)
    {
        var hold = await holder.BeginTransactionAsync();
        await using var lockSwitch = new NpgsqlCommand("select pg_advisory_xact_lock($1)", holder, hold);
        lockSwitch.Parameters.AddWithValue(ProjectionSchemas.SwitchKey(projection));
        await lockSwitch.ExecuteNonQueryAsync();
        return hold;
    }

    [Fact]
    public async Task Projections_that_caught_up_apply_a_batch_and_move_their_checkpoints_in_one_transaction()
    {
        var (a, b, rows) = (new PostCounter("test_shared_a").Configure(), new PostCounter("test_shared_b").Configure(), new MessageRows());
        await StartRunner(a, b, rows);
        var posted = 0;

        // Once all three have joined the shared reader, a post's rows and all three checkpoints carry one transaction id.
        var transactions = await Eventually.Until(async () =>
        {
            await Post("a");
            posted++;
            await Eventually.Until(async () => (await Posts(a), await Posts(b), await Scalar($"select count(*) from {rows.Schema}.rows")),
                n => n == (posted, posted, posted), what: $"post {posted} in the three projections");
            return await Scalar($"""
                select count(distinct x) from (
                    select xmin::text x from es_checkpoints where name in ('{a.CheckpointName}', '{b.CheckpointName}', '{rows.CheckpointName}')
                    union all select xmin::text from {a.Schema}.counts union all select xmin::text from {b.Schema}.counts
                    union all select xmin::text from (select xmin from {rows.Schema}.rows order by seq desc limit 1) r) u
                """);
        }, n => n == 1, TimeSpan.FromSeconds(20), "one transaction for the three projections");
        Assert.Equal(1, transactions);
    }

    [Fact]
    public async Task A_post_appended_while_a_batch_is_applied_is_read_next_without_waiting_for_the_fallback_poll()
    {
        // The fallback poll is far beyond the test's bound: only the post's own notification can bring it in time.
        var slow = new SlowPostCounter("test_shared_slow");
        await StartRunner(new EventStoreOptions { SubscriptionBatchSize = 50, FallbackPollInterval = TimeSpan.FromMinutes(5) }, slow);
        await Post("a", "warm");
        await Eventually.Until(() => Posts(slow), n => n == 1, what: "the first post");

        await Post("a", "slow");
        await Eventually.Until(() => Scalar("""
            select count(*) from pg_stat_activity
            where datname = current_database() and state = 'active' and query like '%pg_sleep%' and pid <> pg_backend_pid()
            """), n => n == 1, what: "the slow batch under way");
        await Post("a", "during");

        await Eventually.Until(() => Posts(slow), n => n == 3, TimeSpan.FromSeconds(15), "the post appended during the slow batch");
    }

    [Fact]
    public async Task A_projection_stopped_on_a_bad_event_leaves_the_others_running_and_rejoins_after_a_restart()
    {
        var (bad, good) = (new PostCounter("test_shared_bad").Configure(), new PostCounter("test_shared_good").Configure(failOnBoom: false));
        await StartRunner(bad, good);
        await Post("a");
        await Eventually.Until(async () => (await Posts(bad), await Posts(good)), n => n == (1, 1), what: "the first post in both");

        var boom = await Post("a", "boom");
        await Post("a");
        var failed = await Eventually.Until(() => Status(bad.Name), s => s.State == "failed", TimeSpan.FromSeconds(20), "the bad projection to stop");
        await Post("a");

        await Eventually.Until(() => Posts(good), n => n == 4, TimeSpan.FromSeconds(10), "the other projection to go on past the bad event");
        Assert.Equal(boom, failed.EventId);
        Assert.Equal(1, await Posts(bad));
        Assert.Equal("running", (await Status(good.Name)).State);

        bad.FailOnBoom = false; // the fix is deployed
        await new RunnerStatus(db.DataSource).RequestRestartAsync(bad.Name, default);
        await Eventually.Until(() => Posts(bad), n => n == 4, TimeSpan.FromSeconds(10), "the restarted projection to catch up");
        await Post("a");
        await Eventually.Until(async () => (await Posts(bad), await Posts(good)), n => n == (5, 5), TimeSpan.FromSeconds(10), "both after the restart");
    }

    [Fact]
    public async Task A_projection_held_by_a_switch_over_leaves_the_others_running_then_catches_up()
    {
        var (held, free) = (new PostCounter("test_shared_held").Configure(), new PostCounter("test_shared_free").Configure());
        await StartRunner(held, free);
        await Post("a");
        await Eventually.Until(async () => (await Posts(held), await Posts(free)), n => n == (1, 1), what: "the first post in both");

        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using (var hold = await HoldSwitchLockAsync(holder, held))
        {
            for (var i = 0; i < 120; i++)
            {
                await Post(i % 2 == 0 ? "a" : "b");
            }
            await Eventually.Until(() => Posts(free), n => n == 121, TimeSpan.FromSeconds(20), "the free projection to apply every post");
            Assert.Equal(1, await Posts(held));
            await hold.CommitAsync();
        }

        await Eventually.Until(() => Posts(held), n => n == 121, TimeSpan.FromSeconds(20), "the held projection to catch up");
        await Post("a");
        await Eventually.Until(async () => (await Posts(held), await Posts(free)), n => n == (122, 122), TimeSpan.FromSeconds(10), "both again");
    }

    [Fact]
    public async Task A_projection_rebuilt_while_posts_arrive_switches_over_and_the_others_keep_applying()
    {
        var (rebuilt, other) = (new PostCounter("test_shared_rebuilt").Configure(), new PostCounter("test_shared_other").Configure());
        await StartRunner(rebuilt, other);
        for (var i = 0; i < 200; i++)
        {
            await Post(i % 3 == 0 ? "a" : "b");
        }
        await Eventually.Until(async () => (await Posts(rebuilt), await Posts(other)), n => n == (200, 200), TimeSpan.FromSeconds(20), "the history in both");

        var rebuilder = new ProjectionRebuilder(db.DataSource, _store, new CheckpointStore(db.DataSource), new ProjectionSchemas(db.DataSource));
        var rebuilding = rebuilder.RebuildAsync(rebuilt);
        var during = 0;
        while (!rebuilding.IsCompleted || during < 20)
        {
            await Post("c");
            during++;
        }
        Assert.Equal("switched", (await rebuilding).State);

        await Eventually.Until(async () => (await Posts(rebuilt), await Posts(other)), n => n == (200 + during, 200 + during),
            TimeSpan.FromSeconds(20), "every post once in both, after the switch-over");
        Assert.Equal(during, await Scalar($"select posts from {rebuilt.Schema}.counts where channel_id = 'c'"));
    }

    [Fact]
    public async Task A_shared_batch_killed_mid_transaction_leaves_every_checkpoint_with_its_rows()
    {
        var (a, b, rows) = (new PostCounter("test_killed_a").Configure(), new PostCounter("test_killed_b").Configure(), new MessageRows());
        await StartRunner(a, b, rows);
        await Post("a");
        await Eventually.Until(() => Scalar($"select count(*) from {rows.Schema}.rows"), n => n == 1, what: "the first post");

        await using (var holder = await db.DataSource.OpenConnectionAsync())
        await using (var hold = await holder.BeginTransactionAsync())
        {
            // The next batch moves the checkpoints and writes some rows, then waits for this table: kill it there.
            await using (var lockRows = new NpgsqlCommand($"lock table {rows.Schema}.rows in exclusive mode", holder, hold))
            {
                await lockRows.ExecuteNonQueryAsync();
            }
            for (var i = 0; i < 30; i++)
            {
                await Post("a");
            }
            var killed = await Eventually.Until(() => Scalar("""
                select count(pg_terminate_backend(pid)) from pg_stat_activity
                 where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock' and backend_xid is not null
                """), n => n >= 1, TimeSpan.FromSeconds(10), "a batch waiting for the table, to kill it");
            Assert.True(killed >= 1);
            await hold.CommitAsync();
        }

        await Eventually.Until(async () => (await Posts(a), await Posts(b), await Scalar($"select count(*) from {rows.Schema}.rows")),
            n => n == (31, 31, 31), TimeSpan.FromSeconds(30), "every post exactly once in each projection");
        var head = await Scalar("select max(position) from es_events");
        Assert.Equal(head, await Scalar($"select min(position) from es_checkpoints where name in ('{a.CheckpointName}', '{b.CheckpointName}', '{rows.CheckpointName}')"));
        foreach (var p in new Projection[] { a, b, rows })
        {
            Assert.Equal("running", (await Status(p.Name)).State);
        }
    }
}

/// <summary>Counts posts; a post whose text is "slow" keeps its batch's transaction open for a second.</summary>
internal sealed class SlowPostCounter : Projection
{
    public SlowPostCounter(string name)
    {
        Name = name;
        On<MessagePosted>((e, c) => c.Sql("""
            insert into counts (channel_id, posts)
            select $1, 1 from (select pg_sleep(case when $2 = 'slow' then 1.0 else 0 end)) slept
            on conflict (channel_id) do update set posts = counts.posts + 1
            """, e.ChannelId, e.Text));
    }

    public override string Name { get; }

    public override string CreateSql => "create table if not exists counts (channel_id text primary key, posts bigint not null)";
}
