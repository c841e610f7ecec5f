using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.EventStore;

/// <summary>The event log's reads: a stream's version and head, an event by id, a stream's events, the global log, and
/// the batches of a subscription.</summary>
public sealed partial class PostgresEventStore
{
    internal const string Columns =
        "position, tx_id, stream_id, version, event_id, type, data::text, metadata::text, created_at, prev_hash, hash, trace_parent";

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
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(conn);
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
        // The newest visible transaction id against the snapshot's xmin: one backward step of es_events_tx_position.
        // (The same question as `exists (... where tx_id >= xmin)`, which the planner answers with a scan of the whole log,
        // as the xmin is not known when it plans: 1.2 ms per read at 6,000 events, growing with the log.)
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "select coalesce((select max(tx_id) from es_events) >= pg_snapshot_xmin(pg_current_snapshot()), false)"));
        await batch.PrepareAsync(ct); // every subscriber sends these two texts at every read: parsed once per connection
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
}
