using System.Diagnostics;
using System.Text;
using EventSourcedChat.EventStore;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.Bench;

/// <summary>One timed run: how many events and calls completed in how long, with how many writers;
/// <paramref name="Failures"/> counts calls that gave up (their events are not counted),
/// <paramref name="FailedCommands"/> the statements that failed on the server (ES40R aborts, retried or not).</summary>
public readonly record struct Run(long Events, long Calls, TimeSpan Elapsed, int Writers, long Failures = 0, long FailedCommands = 0)
{
    public double EventsPerSecond => Events / Elapsed.TotalSeconds;

    /// <summary>Mean time one call took, as seen by one writer.</summary>
    public double MillisecondsPerCall => Calls == 0 ? double.NaN : Writers * Elapsed.TotalMilliseconds / Calls;
}

/// <summary>A cell of the append matrix.</summary>
public readonly record struct AppendCell(int BatchSize, int Streams, int Writers);

/// <summary>
/// Appends through <see cref="PostgresEventStore.AppendAsync(string, ExpectedVersion, IReadOnlyList{EventData}, EventMetadata?, CancellationToken)"/>
/// and, as the baseline, multi-row INSERTs of the same rows into <c>bench_raw</c>, both through the same pool.
/// </summary>
public sealed class AppendBench(NpgsqlDataSource dataSource, FailedCommands failedCommands)
{
    private readonly PostgresEventStore _store = new(dataSource, new EventStoreOptions(), TimeProvider.System);
    private readonly Dictionary<int, string> _rawSql = [];

    public async Task<Run> AppendAsync(AppendCell cell, TimeSpan duration)
    {
        var failedBefore = failedCommands.Count;
        var run = await RunAsync(cell.Writers, duration, async (writer, random) =>
        {
            var stream = StreamName(cell, random);
            try
            {
                await _store.AppendAsync(stream, ExpectedVersion.Any, Payload.Events(cell.BatchSize), Payload.Metadata);
                return cell.BatchSize;
            }
            catch (PostgresException e) when (e.SqlState == "ES40R")
            {
                // The store retries ES40R (stream last written by a younger transaction) a bounded number of times,
                // then lets it through. Under heavy contention on one stream that happens; count it, go on.
                writer.Failures++;
                return 0;
            }
        });
        return run with { FailedCommands = failedCommands.Count - failedBefore };
    }

    public Task<Run> RawInsertAsync(AppendCell cell, TimeSpan duration)
    {
        var sql = RawSql(cell.BatchSize);
        return RunAsync(cell.Writers, duration, async (writer, random) =>
        {
            var stream = StreamName(cell, random);
            var at = DateTimeOffset.UtcNow;
            await using var cmd = dataSource.CreateCommand(sql);
            for (var i = 0; i < cell.BatchSize; i++)
            {
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = ++writer.Version });
                cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Payload.EventType });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Payload.Data, NpgsqlDbType = NpgsqlDbType.Jsonb });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Payload.StoredMetadata, NpgsqlDbType = NpgsqlDbType.Jsonb });
                cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
            }
            await cmd.ExecuteNonQueryAsync();
            return cell.BatchSize;
        });
    }

    private static string StreamName(AppendCell cell, Random random) =>
        cell.Streams == 1 ? "room-0000" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"room-{random.Next(cell.Streams):D4}");

    private string RawSql(int batchSize)
    {
        if (!_rawSql.TryGetValue(batchSize, out var sql))
        {
            var text = new StringBuilder("insert into bench_raw (stream, version, event_id, type, data, metadata, created_at) values ");
            for (var i = 0; i < batchSize; i++)
            {
                var p = i * 7;
                text.Append(i == 0 ? "" : ", ")
                    .Append(System.Globalization.CultureInfo.InvariantCulture,
                        $"(${p + 1}, ${p + 2}, ${p + 3}, ${p + 4}, ${p + 5}, ${p + 6}, ${p + 7})");
            }
            sql = text.ToString();
            _rawSql[batchSize] = sql;
        }
        return sql;
    }

    /// <summary>
    /// Runs <paramref name="writers"/> concurrent loops of <paramref name="call"/> (which returns the events it wrote)
    /// until <paramref name="duration"/> has passed; calls in flight at the deadline finish and count.
    /// </summary>
    private static async Task<Run> RunAsync(int writers, TimeSpan duration, Func<WriterState, Random, Task<int>> call)
    {
        long events = 0;
        long calls = 0;
        long failures = 0;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tasks = new Task[writers];
        for (var w = 0; w < writers; w++)
        {
            var seed = (w + 1) * 7919;
            tasks[w] = Task.Run(async () =>
            {
                var random = new Random(seed);
                var state = new WriterState();
                long myEvents = 0;
                long myCalls = 0;
                while (Stopwatch.GetTimestamp() < deadline)
                {
                    myEvents += await call(state, random);
                    myCalls++;
                }
                Interlocked.Add(ref events, myEvents);
                Interlocked.Add(ref calls, myCalls);
                Interlocked.Add(ref failures, state.Failures);
            });
        }
        await Task.WhenAll(tasks);
        return new Run(events, calls, Stopwatch.GetElapsedTime(start), writers, failures);
    }

    /// <summary>Per-writer state: the baseline's version counter, the appends that gave up.</summary>
    public sealed class WriterState
    {
        public long Version { get; set; }
        public long Failures { get; set; }
    }
}
