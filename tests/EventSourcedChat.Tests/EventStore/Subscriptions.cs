using System.Collections.Concurrent;
using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;
using static EventSourcedChat.Tests.EventStore.Appending;

namespace EventSourcedChat.Tests.EventStore;

[Collection(PostgresCollection.Name)]
public sealed class Subscriptions(PostgresFixture db) : IAsyncLifetime
{
    private readonly PostgresEventStore _store = db.CreateStore();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];

    public Task InitializeAsync() => db.ResetAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var task in _running)
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }

    /// <summary>Starts a named subscription that records every event it is handed.</summary>
    private ConcurrentQueue<RecordedEvent> Subscribe(string name, CancellationToken? ct = null, EventStoreOptions? options = null)
    {
        var seen = new ConcurrentQueue<RecordedEvent>();
        var (subscription, notifier) = db.CreateSubscription(options);
        var token = ct ?? _stop.Token;
        _running.Add(notifier.StartAsync(token));
        _running.Add(Task.Run(() => subscription.RunAsync(name, (batch, _) =>
        {
            foreach (var e in batch.Events)
            {
                seen.Enqueue(e);
            }
            return Task.CompletedTask;
        }, CheckpointMode.AfterHandler, token)));
        return seen;
    }

    /// <summary>Appends inside a transaction the test holds open (it commits or rolls back when told).</summary>
    private async Task<(NpgsqlConnection Conn, NpgsqlTransaction Tx, long Position)> AppendInOpenTransaction(string stream, bool takeXidFirst = false)
    {
        var conn = await db.DataSource.OpenConnectionAsync();
        var tx = await conn.BeginTransactionAsync();
        if (takeXidFirst)
        {
            await using var xid = new NpgsqlCommand("select pg_current_xact_id()", conn, tx);
            await xid.ExecuteScalarAsync();
        }
        if (stream.Length == 0)
        {
            return (conn, tx, 0);
        }
        await using var cmd = new NpgsqlCommand(
            "select out_position from es_append($1, -1, array[gen_random_uuid()], array['t'], array['{}'::jsonb], array['{}'::jsonb], now())", conn, tx);
        cmd.Parameters.AddWithValue(stream);
        var position = (long)(await cmd.ExecuteScalarAsync())!;
        return (conn, tx, position);
    }

    [Fact]
    public async Task Catches_up_on_history_then_delivers_live_events_in_order()
    {
        for (var i = 0; i < 25; i++)
        {
            await _store.AppendAsync($"s-{i % 3}", ExpectedVersion.Any, [Event(), Event()]);
        }
        var seen = Subscribe("catch-up", options: new EventStoreOptions { SubscriptionBatchSize = 7 });
        await Eventually.Until(() => seen.Count == 50, what: "history");

        var live = await _store.AppendAsync("s-live", ExpectedVersion.Any, [Event()]);
        await Eventually.Until(() => seen.Count == 51, what: "the live event");

        Assert.Equal(live.Position, seen.Last().Position);
        var positions = seen.Select(e => e.Position).ToList();
        Assert.Equal(positions.Order(), positions);
    }

    [Fact]
    public async Task An_append_committed_while_the_subscriber_handles_a_batch_is_delivered_without_waiting_for_the_fallback_poll()
    {
        // The fallback poll is far beyond the test's bound: only the append's own notification can deliver it in time.
        var options = new EventStoreOptions { FallbackPollInterval = TimeSpan.FromMinutes(5) };
        var (subscription, notifier) = db.CreateSubscription(options);
        _running.Add(notifier.StartAsync(_stop.Token));
        var seen = new ConcurrentQueue<RecordedEvent>();
        var second = 0;
        _running.Add(Task.Run(() => subscription.RunAsync("wake-up", async (batch, ct) =>
        {
            foreach (var e in batch.Events)
            {
                seen.Enqueue(e);
            }
            if (Interlocked.Exchange(ref second, 1) == 0)
            {
                // After this batch's read: append, and hand the batch back only once its notification has arrived.
                var notified = notifier.NextAppend;
                await _store.AppendAsync("s-during", ExpectedVersion.Any, [Event()], ct: ct);
                await notified.WaitAsync(TimeSpan.FromSeconds(10), ct);
            }
        }, CheckpointMode.AfterHandler, _stop.Token)));
        await Eventually.Until(() => notifier.ExecuteTask is not null, what: "the listener");

        await _store.AppendAsync("s-first", ExpectedVersion.Any, [Event()]);

        await Eventually.Until(() => seen.Count == 2, TimeSpan.FromSeconds(15), what: "the event appended during the handler");
        Assert.Equal(["s-first", "s-during"], seen.Select(e => e.StreamId));
    }

    [Fact]
    public async Task At_the_head_a_subscription_with_a_gather_window_reads_the_appends_made_within_it_together()
    {
        var (subscription, notifier) = db.CreateSubscription(new EventStoreOptions { FallbackPollInterval = TimeSpan.FromMinutes(5) });
        _running.Add(notifier.StartAsync(_stop.Token));
        var batches = new ConcurrentQueue<IReadOnlyList<RecordedEvent>>();
        _running.Add(Task.Run(() => subscription.RunAsync("gather", (batch, _) =>
        {
            batches.Enqueue(batch.Events);
            return Task.CompletedTask;
        }, CheckpointMode.AfterHandler, _stop.Token, gather: TimeSpan.FromSeconds(3))));
        await Eventually.Until(() => notifier.ExecuteTask is not null, what: "the listener");
        var first = await _store.AppendAsync("s-first", ExpectedVersion.Any, [Event()]);
        await Eventually.Until(() => batches.Count == 1, TimeSpan.FromSeconds(15), what: "the first event");
        await Eventually.Until(() => new CheckpointStore(db.DataSource).LoadAsync("gather"), c => c.Position == first.Position,
            TimeSpan.FromSeconds(15), what: "the first batch's checkpoint");

        // Five appends, each only once its notification has arrived: a subscriber that read at once would have them now.
        for (var i = 0; i < 5; i++)
        {
            var notified = notifier.NextAppend;
            await _store.AppendAsync($"s-{i}", ExpectedVersion.Any, [Event()]);
            await notified.WaitAsync(TimeSpan.FromSeconds(10));
        }
        var handedDuringTheAppends = batches.Count - 1;

        await Eventually.Until(() => batches.Sum(b => b.Count) == 6, TimeSpan.FromSeconds(15), what: "the five appends");
        Assert.Equal(0, handedDuringTheAppends);
        Assert.Equal(2, batches.Count);
        Assert.Equal(["s-first", "s-0", "s-1", "s-2", "s-3", "s-4"], batches.SelectMany(b => b).Select(e => e.StreamId));
    }

    [Fact]
    public async Task An_event_whose_transaction_commits_after_a_later_position_is_still_delivered_in_order()
    {
        var seen = Subscribe("interleaving");
        var first = await _store.AppendAsync("before", ExpectedVersion.Any, [Event()]);
        await Eventually.Until(() => seen.Count == 1, what: "the first event");

        // The lower position is taken by a transaction that stays open...
        var (conn, slow, lowPosition) = await AppendInOpenTransaction("slow");
        // ...while a higher position commits at once.
        var fast = await _store.AppendAsync("fast", ExpectedVersion.Any, [Event()]);
        Assert.True(fast.Position > lowPosition);

        // The committed event is held back: its transaction is younger than one still running.
        var (visible, pending) = await _store.ReadSubscriptionBatchAsync(seen.Last().Cursor, 100);
        Assert.Empty(visible);
        Assert.True(pending);

        await slow.CommitAsync();
        await conn.DisposeAsync();
        await Eventually.Until(() => seen.Count == 3, what: "both events");

        Assert.Equal([first.Position, lowPosition, fast.Position], seen.Select(e => e.Position));
    }

    [Fact]
    public async Task A_transaction_that_took_its_id_first_but_commits_last_is_not_skipped()
    {
        var seen = Subscribe("older-xid");
        var (conn, older, _) = await AppendInOpenTransaction("", takeXidFirst: true);
        var younger = await _store.AppendAsync("young", ExpectedVersion.Any, [Event()]);
        await using (var cmd = new NpgsqlCommand(
            "select out_position from es_append('old', -1, array[gen_random_uuid()], array['t'], array['{}'::jsonb], array['{}'::jsonb], now())", conn, older))
        {
            var olderPosition = (long)(await cmd.ExecuteScalarAsync())!;
            Assert.True(olderPosition > younger.Position);
        }
        await older.CommitAsync();
        await conn.DisposeAsync();

        await Eventually.Until(() => seen.Count == 2, what: "both events");
        Assert.Equal(["old", "young"], seen.Select(e => e.StreamId));
    }

    [Fact]
    public async Task A_read_says_events_are_pending_while_an_older_open_transaction_holds_them_back()
    {
        var first = await _store.AppendAsync("before", ExpectedVersion.Any, [Event()]);
        var start = await Eventually.Until(
            () => _store.ReadSubscriptionBatchAsync(LogCursor.Start, 10),
            read => read.Events.Any(e => e.Position == first.Position),
            what: "the first event, readable");
        var after = start.Events.Single(e => e.Position == first.Position).Cursor;

        var (conn, older, _) = await AppendInOpenTransaction("", takeXidFirst: true);
        var held = await _store.AppendAsync("held", ExpectedVersion.Any, [Event()]);
        var whileOpen = await _store.ReadSubscriptionBatchAsync(after, 10);

        Assert.True(whileOpen.Pending);
        Assert.DoesNotContain(whileOpen.Events, e => e.Position == held.Position);

        await older.RollbackAsync();
        await conn.DisposeAsync();
        var afterwards = await Eventually.Until(
            () => _store.ReadSubscriptionBatchAsync(after, 10), read => !read.Pending, what: "nothing pending");
        Assert.Contains(afterwards.Events, e => e.Position == held.Position);
    }

    [Fact]
    public async Task A_checkpoint_saved_without_waiting_for_the_flush_is_stored_and_the_connection_commits_durably_afterwards()
    {
        // One pooled connection, not reset when it goes back to the pool: the statement after the save runs in the session
        // the save used, so a setting that outlived the save's own transaction would show.
        await using var one = new NpgsqlDataSourceBuilder(db.ConnectionString)
        {
            ConnectionStringBuilder = { MaxPoolSize = 1, NoResetOnClose = true },
        }.Build();
        var checkpoints = new CheckpointStore(one);
        var cursor = new LogCursor(41, 7);

        await checkpoints.SaveProgressAsync("progress", cursor);

        Assert.Equal(cursor, await checkpoints.LoadAsync("progress"));
        await using var setting = one.CreateCommand("show synchronous_commit");
        Assert.Equal("on", await setting.ExecuteScalarAsync());
    }

    [Fact]
    public async Task An_older_transaction_cannot_append_behind_a_younger_one_in_the_same_stream()
    {
        var (conn, older, _) = await AppendInOpenTransaction("", takeXidFirst: true);
        await _store.AppendAsync("shared", ExpectedVersion.Any, [Event()]);

        await using var cmd = new NpgsqlCommand(
            "select out_position from es_append('shared', -1, array[gen_random_uuid()], array['t'], array['{}'::jsonb], array['{}'::jsonb], now())", conn, older);
        var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteScalarAsync());

        Assert.Equal("ES40R", e.SqlState);
        await older.RollbackAsync();
        await conn.DisposeAsync();
    }

    [Fact]
    public async Task Concurrent_writers_are_all_delivered_once_with_each_stream_in_version_order()
    {
        var seen = Subscribe("concurrent", options: new EventStoreOptions { SubscriptionBatchSize = 50 });
        var results = new ConcurrentBag<AppendResult>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                // Half the writers share four streams, so same-stream appends race too.
                var stream = w % 2 == 0 ? $"shared-{i % 4}" : $"own-{w}";
                results.Add(await _store.AppendAsync(stream, ExpectedVersion.Any, [Event(), Event()]));
            }
        })));

        await Eventually.Until(() => seen.Count >= results.Count * 2, what: "every event");
        var delivered = seen.ToList();
        Assert.Equal(results.Count * 2, delivered.Count);
        Assert.Equal(delivered.Count, delivered.Select(e => e.Position).Distinct().Count());
        foreach (var stream in delivered.GroupBy(e => e.StreamId))
        {
            var versions = stream.Select(e => e.Version).ToList();
            Assert.Equal(Enumerable.Range(1, versions.Count).Select(v => (long)v), versions);
        }
        var cursors = delivered.Select(e => e.Cursor).ToList();
        Assert.Equal(cursors.Order(), cursors);
    }

    [Fact]
    public async Task Resumes_from_its_checkpoint_after_a_restart()
    {
        for (var i = 0; i < 5; i++)
        {
            await _store.AppendAsync("s", ExpectedVersion.Any, [Event()]);
        }
        using (var firstRun = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            var before = Subscribe("restartable", firstRun.Token);
            await Eventually.Until(() => before.Count == 5, what: "the first five");
            await Eventually.Until(async () => (await new CheckpointStore(db.DataSource).LoadAsync("restartable")).Position,
                p => p == before.Last().Position, what: "the checkpoint");
            await firstRun.CancelAsync();
        }

        var later = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            later.Add((await _store.AppendAsync("s", ExpectedVersion.Any, [Event()])).Position);
        }
        var after = Subscribe("restartable");
        await Eventually.Until(() => after.Count >= 5, what: "the next five");
        await _store.AppendAsync("s", ExpectedVersion.Any, [Event()]);
        await Eventually.Until(() => after.Count >= 6, what: "a live event after restart");

        Assert.Equal(later, after.Take(5).Select(e => e.Position));
    }
}
