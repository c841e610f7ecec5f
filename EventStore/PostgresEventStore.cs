using System.Diagnostics;
using EventSourcedChat.EventStore.Telemetry;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.EventStore;

/// <summary>
/// The event log on PostgreSQL: appends (one round trip, via <c>es_append</c>), stream and global reads,
/// and the hash-chain check. Subscriptions are in <see cref="CatchUpSubscription"/>.
/// </summary>
public sealed class PostgresEventStore(NpgsqlDataSource dataSource, EventStoreOptions options, TimeProvider time, EventStoreMetrics? metrics = null)
{
    private const int MaxOrderRetries = 10;

    private readonly CommitNotifier _commits = new(dataSource);

    internal const string Columns =
        "position, tx_id, stream_id, version, event_id, type, data::text, metadata::text, created_at, prev_hash, hash, trace_parent";

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
        Validate(stream, events);
        if (onAppended is null)
        {
            var started = Stopwatch.GetTimestamp();
            var at = time.GetUtcNow();
            var meta = StoredMetadata(metadata ?? new EventMetadata(), at);
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
        Validate(stream, events);
        var at = time.GetUtcNow();
        var meta = StoredMetadata(metadata ?? new EventMetadata(), at);
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
        var result = await WithOrderRetry(async () =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var result = await work(tx, ct);
            await tx.CommitAsync(ct);
            return result;
        });
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

    private static async Task<AppendResult> Translate(string stream, ExpectedVersion expected, Func<Task<AppendResult>> append)
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

    /// <summary>The stream's current version (0 when it holds no events), read from the stream row, not its events.</summary>
    public async Task<long> GetStreamVersionAsync(string stream, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("select version from es_streams where stream_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        return await cmd.ExecuteScalarAsync(ct) is long v ? v : 0;
    }

    /// <summary>The global position of the stream's last event, or 0 when it has none.</summary>
    public async Task<long> GetHeadPositionAsync(string stream, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            select e.position from es_streams s join es_events e on e.stream_id = s.stream_id and e.version = s.version
             where s.stream_id = $1
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        return await cmd.ExecuteScalarAsync(ct) is long p ? p : 0;
    }

    /// <summary>The event with this id in the stream (an index lookup), or null.</summary>
    public async Task<RecordedEvent?> FindEventAsync(string stream, Guid eventId, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"select {Columns} from es_events where stream_id = $1 and event_id = $2");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = eventId });
        var found = await ReadAll(cmd, ct);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>
    /// Reads up to <paramref name="limit"/> events of a stream starting at <paramref name="fromVersion"/> (inclusive),
    /// forwards (ascending versions) or backwards (descending; use <see cref="long.MaxValue"/> for the end).
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(
        string stream, long fromVersion, int limit, ReadDirection direction = ReadDirection.Forwards, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var sql = direction == ReadDirection.Forwards
            ? $"select {Columns} from es_events where stream_id = $1 and version >= $2 order by version limit $3"
            : $"select {Columns} from es_events where stream_id = $1 and version <= $2 order by version desc limit $3";
        await using var cmd = dataSource.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromVersion });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await ReadAll(cmd, ct);
    }

    /// <summary>
    /// Reads the global log in position order after <paramref name="afterPosition"/>. For history and audits:
    /// a reader that must never miss a later-committing event uses <see cref="CatchUpSubscription"/> instead.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long afterPosition, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var cmd = dataSource.CreateCommand($"select {Columns} from es_events where position > $1 order by position limit $2");
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterPosition });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await ReadAll(cmd, ct);
    }

    /// <summary>
    /// The next events after <paramref name="after"/> in subscription order: only rows written by transactions older
    /// than every transaction still running (the snapshot's xmin), so no later commit can land behind the cursor.
    /// <c>Pending</c> says whether committed events exist that an older open transaction still holds back.
    /// </summary>
    public async Task<(IReadOnlyList<RecordedEvent> Events, bool Pending)> ReadSubscriptionBatchAsync(
        LogCursor after, int limit, CancellationToken ct = default)
    {
        await using var batch = dataSource.CreateBatch();
        var read = new NpgsqlBatchCommand($"""
            select {Columns} from es_events
             where (tx_id, position) > ($1::xid8, $2)
               and tx_id < pg_snapshot_xmin(pg_current_snapshot())
             order by tx_id, position
             limit $3
            """);
        read.Parameters.Add(new NpgsqlParameter<ulong> { TypedValue = after.TxId, NpgsqlDbType = NpgsqlDbType.Xid8 });
        read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.Position });
        read.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        batch.BatchCommands.Add(read);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "select exists (select 1 from es_events where tx_id >= pg_snapshot_xmin(pg_current_snapshot()))"));
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var events = new List<RecordedEvent>();
        while (await reader.ReadAsync(ct))
        {
            events.Add(Map(reader));
        }
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        return (events, reader.GetBoolean(0));
    }

    /// <summary>
    /// Recomputes the stream's hash chain in one streaming query (index scan, window, aggregate); names the first version
    /// whose hash or link does not match, that is missing, or, when the newest events are gone, the first version the
    /// stream row says exists beyond them (its head version and hash are checked too).
    /// </summary>
    public async Task<StreamVerification> VerifyStreamAsync(string stream, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            select count(*),
                   least(
                       min(version) filter (where hash <> es_event_hash(prev_hash, stream_id, version, event_id, type, data, metadata, created_at)
                                               or prev_hash <> coalesce(prior, decode(repeat('00', 32), 'hex'))
                                               or version <> expected_version
                                               or (is_last and version = (select version from es_streams where stream_id = $1)
                                                   and hash is distinct from (select last_hash from es_streams where stream_id = $1))),
                       case when coalesce(max(version), 0) < coalesce((select version from es_streams where stream_id = $1), 0)
                            then coalesce(max(version), 0) + 1 end)
              from (select *, lag(hash) over w as prior, row_number() over w as expected_version, lead(version) over w is null as is_last
                      from es_events where stream_id = $1 window w as (order by version)) chain
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var count = reader.GetInt64(0);
        long? firstBad = reader.IsDBNull(1) ? null : reader.GetInt64(1);
        return new StreamVerification(firstBad is null, count, firstBad);
    }

    /// <summary>
    /// Places a hold on a stream inside the caller's transaction: from its commit until <see cref="LiftHoldAsync"/>, the
    /// database rejects (SQLSTATE <c>ES423</c>) any delete or update of the stream's events. Waits for deletes of the
    /// stream already under way. True when the stream was not held before.
    /// </summary>
    public static async Task<bool> PlaceHoldAsync(NpgsqlTransaction tx, string stream, string? reason, CancellationToken ct = default)
    {
        await using (var lockHold = new NpgsqlCommand("select es_lock_for_hold($1)", tx.Connection, tx))
        {
            lockHold.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
            await lockHold.ExecuteNonQueryAsync(ct);
        }
        await using var cmd = new NpgsqlCommand(
            "insert into es_stream_holds (stream_id, reason) values ($1, $2) on conflict (stream_id) do nothing", tx.Connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Lifts a stream's hold inside the caller's transaction. True when it was held.</summary>
    public static async Task<bool> LiftHoldAsync(NpgsqlTransaction tx, string stream, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand("delete from es_stream_holds where stream_id = $1", tx.Connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private static async Task<IReadOnlyList<RecordedEvent>> ReadAll(NpgsqlCommand cmd, CancellationToken ct)
    {
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var events = new List<RecordedEvent>();
        while (await reader.ReadAsync(ct))
        {
            events.Add(Map(reader));
        }
        return events;
    }

    internal static RecordedEvent Map(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        r.GetFieldValue<ulong>(1),
        r.GetString(2),
        r.GetInt64(3),
        r.GetGuid(4),
        r.GetString(5),
        r.GetString(6),
        r.GetString(7),
        r.GetFieldValue<DateTimeOffset>(8),
        r.GetFieldValue<byte[]>(9),
        r.GetFieldValue<byte[]>(10),
        r.IsDBNull(11) ? null : r.GetString(11));

    private void Validate(string stream, IReadOnlyList<EventData> events)
    {
        if (string.IsNullOrWhiteSpace(stream) || stream.Length > options.MaxStreamIdLength)
        {
            throw new InvalidAppendException($"A stream name has 1 to {options.MaxStreamIdLength} characters and is not blank.");
        }
        if (events is null || events.Count == 0)
        {
            throw new InvalidAppendException("An append needs at least one event.");
        }
        if (events.Count > options.MaxEventsPerAppend)
        {
            throw new InvalidAppendException($"An append holds at most {options.MaxEventsPerAppend} events.");
        }
        var ids = new HashSet<Guid>();
        foreach (var e in events)
        {
            if (e is null || e.EventId == Guid.Empty || !ids.Add(e.EventId))
            {
                throw new InvalidAppendException("Every event needs a non-empty id, unique within the append.");
            }
            if (string.IsNullOrWhiteSpace(e.Type) || e.Type.Length > options.MaxTypeLength)
            {
                throw new InvalidAppendException($"An event type has 1 to {options.MaxTypeLength} characters.");
            }
            if (e.Data is null || Encoding.UTF8.GetByteCount(e.Data) > options.MaxEventBytes)
            {
                throw new InvalidAppendException($"Event data is at most {options.MaxEventBytes} bytes of JSON.");
            }
            // PostgreSQL's jsonb cannot hold the NUL character, even escaped.
            if (!IsJson(e.Data) || e.Data.Contains("\\u0000", StringComparison.Ordinal))
            {
                throw new InvalidAppendException($"Event data of '{e.Type}' is not valid JSON.");
            }
        }
    }

    private static bool IsJson(string data)
    {
        try
        {
            using var doc = JsonDocument.Parse(data);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string StoredMetadata(EventMetadata m, DateTimeOffset at)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("actor", m.Actor);
            w.WriteString("correlationId", m.CorrelationId);
            w.WriteString("causationId", m.CausationId);
            w.WriteString("at", at.UtcDateTime);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
