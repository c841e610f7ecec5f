using System.Diagnostics;
using EventSourcedChat.EventStore.Telemetry;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.EventStore;

/// <summary>
/// The event log on PostgreSQL. This file: appends (one round trip, via <c>es_append</c>) and the transactions around
/// them; reads are in <c>PostgresEventStore.Reads.cs</c>, the hash-chain check in <c>PostgresEventStore.Verification.cs</c>,
/// stream holds in <see cref="StreamHolds"/>. Subscriptions are in <see cref="CatchUpSubscription"/>.
/// </summary>
/// <param name="notifier">This process's listener, when it has one: its readers are woken at each commit here at once.</param>
public sealed partial class PostgresEventStore(
    NpgsqlDataSource dataSource, EventStoreOptions options, TimeProvider time, EventStoreMetrics? metrics = null, AppendNotifier? notifier = null)
{
    private const int MaxOrderRetries = 10;

    private readonly CommitNotifier _commits = new(dataSource, notifier);

    public NpgsqlDataSource DataSource => dataSource;

    public Task<AppendResult> AppendAsync(
        string stream, ExpectedVersion expected, IReadOnlyList<EventData> events,
        EventMetadata? metadata = null, CancellationToken ct = default) =>
        AppendAsync(stream, expected, events, metadata, onAppended: null, ct);

    /// <summary>
    /// Appends, then, when something was written (not a duplicate), runs <paramref name="onAppended"/> in the same
    /// transaction: write-side state that must move with the log commits or rolls back with it.
    /// </summary>
    public async Task<AppendResult> AppendAsync(
        string stream, ExpectedVersion expected, IReadOnlyList<EventData> events, EventMetadata? metadata,
        Func<AppendResult, NpgsqlTransaction, CancellationToken, Task>? onAppended, CancellationToken ct = default)
    {
        AppendInput.Validate(options, stream, events);
        if (onAppended is null)
        {
            var started = Stopwatch.GetTimestamp();
            var at = time.GetUtcNow();
            var meta = AppendInput.StoredMetadata(metadata ?? new EventMetadata(), at);
            var appended = await WithOrderRetry(async () =>
            {
                await using var conn = await dataSource.OpenConnectionAsync(ct);
                return await Translate(stream, expected, () => Append(conn, null, stream, expected, events, meta, at, ct));
            });
            if (!appended.Duplicate)
            {
                _commits.Notify();
                metrics?.Appended(events.Count);
                metrics?.Committed(started);
            }
            return appended;
        }
        return await InTransactionAsync(async (tx, token) =>
        {
            var result = await AppendAsync(tx, stream, expected, events, metadata, token);
            if (!result.Duplicate)
            {
                await onAppended(result, tx, token);
            }
            return result;
        }, ct);
    }

    /// <summary>
    /// Appends inside the caller's transaction (from <see cref="InTransactionAsync{T}"/>), so the caller can lock and
    /// read its own state, decide and append as one unit.
    /// </summary>
    public Task<AppendResult> AppendAsync(
        NpgsqlTransaction transaction, string stream, ExpectedVersion expected, IReadOnlyList<EventData> events,
        EventMetadata? metadata, CancellationToken ct = default)
    {
        AppendInput.Validate(options, stream, events);
        var at = time.GetUtcNow();
        var meta = AppendInput.StoredMetadata(metadata ?? new EventMetadata(), at);
        return Translate(stream, expected, async () =>
        {
            var appended = await Append(transaction.Connection!, transaction, stream, expected, events, meta, at, ct);
            if (!appended.Duplicate)
            {
                metrics?.Appended(events.Count);
            }
            return appended;
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it. When an append in it lost the same-stream
    /// ordering race (its transaction id is older than the stream's last writer's), the whole unit runs again in a
    /// new transaction; <paramref name="work"/> must therefore be safe to repeat (it is rolled back first).
    /// </summary>
    public async Task<T> InTransactionAsync<T>(Func<NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken ct = default)
    {
        var started = Stopwatch.GetTimestamp();
        // Transactions.RunAsync: a failed unit rethrows its own error and never leaves its session open in the transaction.
        var result = await WithOrderRetry(() => Transactions.RunAsync(dataSource, work, ct));
        _commits.Notify();
        metrics?.Committed(started);
        return result;
    }

    private static async Task<T> WithOrderRetry<T>(Func<Task<T>> attempt)
    {
        for (var i = 1; ; i++)
        {
            try
            {
                return await attempt();
            }
            catch (PostgresException e) when (e.SqlState == "ES40R" && i < MaxOrderRetries)
            {
                // The stream's last writer had a younger transaction id than ours; a new transaction gets a newer one.
            }
        }
    }

    private static Task<AppendResult> Translate(string stream, ExpectedVersion expected, Func<Task<AppendResult>> append) =>
        TranslateAny(stream, expected, append);

    private static async Task<T> TranslateAny<T>(string stream, ExpectedVersion expected, Func<Task<T>> append)
    {
        try
        {
            return await append();
        }
        catch (PostgresException e) when (e.SqlState == "ES409")
        {
            throw new WrongExpectedVersionException(stream, expected, long.Parse(e.Hint!, System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (PostgresException e) when (e.SqlState == "ES422")
        {
            throw new EventIdConflictException(stream, e.MessageText);
        }
    }

    private static async Task<AppendResult> Append(
        NpgsqlConnection conn, NpgsqlTransaction? tx, string stream, ExpectedVersion expected,
        IReadOnlyList<EventData> events, string metadata, DateTimeOffset at, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select * from es_append($1, $2, $3, $4, $5, $6, $7, $8)", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expected.Value });
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = events.Select(e => e.EventId).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = events.Select(e => e.Type).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<string[]>
        {
            TypedValue = events.Select(e => e.Data).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
        });
        cmd.Parameters.Add(new NpgsqlParameter<string[]>
        {
            TypedValue = Enumerable.Repeat(metadata, events.Count).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
        });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        // The appending request's trace (when sampled), kept beside the events and outside their hash.
        cmd.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = ChatActivity.CurrentTraceParent(), NpgsqlDbType = NpgsqlDbType.Text });
        // Prepared once per physical connection and kept across pool reuse. Besides skipping the parse, a connection
        // holding prepared statements is reset without DISCARD ALL, whose DISCARD PLANS would otherwise throw away
        // es_append's cached PL/pgSQL plans and make every append plan its statements again.
        await cmd.PrepareAsync(ct);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new AppendResult(reader.GetInt64(0), reader.GetInt64(1), reader.GetBoolean(2), reader.GetFieldValue<DateTimeOffset>(3));
    }
}
