using System.Diagnostics;
using EventSourcedChat.EventStore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourcedChat.Bench;

/// <summary>
/// Reads a log of a known size from the start: through <see cref="CatchUpSubscription"/>, through repeated
/// <see cref="PostgresEventStore.ReadSubscriptionBatchAsync"/>, and, as the baseline, through a plain keyset
/// read of the same columns in position order, mapped to the same records.
/// </summary>
public sealed class CatchUpBench(NpgsqlDataSource dataSource)
{
    private const string Columns =
        "position, tx_id, stream_id, version, event_id, type, data::text, metadata::text, created_at, prev_hash, hash";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private static readonly EventStoreOptions Options = new() { SubscriptionBatchSize = BenchSettings.ReadBatchSize };

    private readonly PostgresEventStore _store = new(dataSource, Options, TimeProvider.System);
    private int _runs;

    /// <summary>Appends <paramref name="count"/> events (appends of 100 to 1,000 streams by 8 writers).</summary>
    public async Task<Run> LoadAsync(int count)
    {
        const int batch = 100;
        const int writers = 8;
        var remaining = (long)count;
        var start = Stopwatch.GetTimestamp();
        long calls = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w + 1);
            while (true)
            {
                var left = Interlocked.Add(ref remaining, -batch) + batch;
                if (left <= 0)
                {
                    return;
                }
                var stream = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"room-{random.Next(1_000):D4}");
                var events = Payload.Events((int)Math.Min(batch, left));
                while (true)
                {
                    Interlocked.Increment(ref calls);
                    try
                    {
                        await _store.AppendAsync(stream, ExpectedVersion.Any, events, Payload.Metadata);
                        break;
                    }
                    catch (PostgresException e) when (e.SqlState == "ES40R")
                    {
                        // The store's own retries ran out under contention (see the append table); try again.
                    }
                }
            }
        })));
        return new Run(count, calls, Stopwatch.GetElapsedTime(start), writers);
    }

    /// <summary>A new <see cref="CatchUpSubscription"/> (checkpoints saved after each batch) from the start of the log.</summary>
    public async Task<Run> SubscriptionAsync(long expected)
    {
        using var notifier = new AppendNotifier(dataSource, NullLogger<AppendNotifier>.Instance);
        await notifier.StartAsync(CancellationToken.None);
        try
        {
            var subscription = new CatchUpSubscription(_store, new CheckpointStore(dataSource), notifier, Options);
            using var stop = new CancellationTokenSource(Timeout);
            var done = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
            long seen = 0;
            long batches = 0;
            var start = Stopwatch.GetTimestamp();
            var name = "bench-" + Interlocked.Increment(ref _runs).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var run = subscription.RunAsync(name, (batch, _) =>
            {
                seen += batch.Events.Count;
                batches++;
                if (seen >= expected)
                {
                    done.TrySetResult(Stopwatch.GetElapsedTime(start));
                }
                return Task.CompletedTask;
            }, CheckpointMode.AfterHandler, stop.Token);

            var finished = await Task.WhenAny(done.Task, run);
            if (finished != done.Task)
            {
                await run; // surfaces the subscription's error
                throw new InvalidOperationException($"The subscription stopped after {seen} of {expected} events.");
            }
            var elapsed = await done.Task;
            await stop.CancelAsync();
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
            }
            return new Run(seen, batches, elapsed, 1);
        }
        finally
        {
            await notifier.StopAsync(CancellationToken.None);
        }
    }

    /// <summary><see cref="PostgresEventStore.ReadSubscriptionBatchAsync"/> in a loop, no checkpoints.</summary>
    public async Task<Run> SubscriptionBatchesAsync(long expected)
    {
        var cursor = LogCursor.Start;
        long seen = 0;
        long batches = 0;
        var start = Stopwatch.GetTimestamp();
        while (seen < expected)
        {
            var (events, pending) = await _store.ReadSubscriptionBatchAsync(cursor, BenchSettings.ReadBatchSize);
            batches++;
            if (events.Count == 0)
            {
                if (!pending || Stopwatch.GetElapsedTime(start) > Timeout)
                {
                    throw new InvalidOperationException($"The log ended after {seen} of {expected} events.");
                }
                // An older transaction elsewhere in the cluster holds the rest back.
                await Task.Delay(1);
                continue;
            }
            seen += events.Count;
            cursor = events[^1].Cursor;
        }
        return new Run(seen, batches, Stopwatch.GetElapsedTime(start), 1);
    }

    /// <summary>The baseline: <c>where position &gt; last order by position limit n</c>, same columns and mapping.</summary>
    public async Task<Run> KeysetBaselineAsync(long expected)
    {
        long last = 0;
        long seen = 0;
        long batches = 0;
        var start = Stopwatch.GetTimestamp();
        while (seen < expected)
        {
            await using var cmd = dataSource.CreateCommand($"select {Columns} from es_events where position > $1 order by position limit $2");
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = last });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BenchSettings.ReadBatchSize });
            await using var reader = await cmd.ExecuteReaderAsync();
            var events = new List<RecordedEvent>(BenchSettings.ReadBatchSize);
            while (await reader.ReadAsync())
            {
                events.Add(new RecordedEvent(
                    reader.GetInt64(0),
                    reader.GetFieldValue<ulong>(1),
                    reader.GetString(2),
                    reader.GetInt64(3),
                    reader.GetGuid(4),
                    reader.GetString(5),
                    reader.GetString(6),
                    reader.GetString(7),
                    reader.GetFieldValue<DateTimeOffset>(8),
                    reader.GetFieldValue<byte[]>(9),
                    reader.GetFieldValue<byte[]>(10)));
            }
            batches++;
            if (events.Count == 0)
            {
                throw new InvalidOperationException($"The log ended after {seen} of {expected} events.");
            }
            seen += events.Count;
            last = events[^1].Position;
        }
        return new Run(seen, batches, Stopwatch.GetElapsedTime(start), 1);
    }
}
