using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.EventStore;

/// <summary>A stream and the first version of it that a read includes.</summary>
public readonly record struct StreamFrom(string StreamId, long FromVersion);

/// <summary>
/// Reads of a set of streams in subscription order (transaction id, then position) after a cursor, as a reader that
/// joins a subscription's stream needs them (a gateway's resume replay): only rows below the snapshot's xmin, like
/// <see cref="PostgresEventStore.ReadSubscriptionBatchAsync"/>, so nothing read later can land behind the cursor; and the
/// look-ups such a reader starts from (the cursor of a position, the log's head).
/// </summary>
public sealed class StreamSetReader(NpgsqlDataSource dataSource)
{
    private const string InStreams = """
        from es_events e
        join unnest($1::text[], $2::bigint[]) as s(sid, from_version) on e.stream_id = s.sid and e.version >= s.from_version
        where (e.tx_id, e.position) > ($3::xid8, $4) and e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
        """;

    /// <summary>The subscription cursor of the event at a global position, or null when there is none.</summary>
    public async Task<LogCursor?> CursorOfAsync(long position, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("select tx_id from es_events where position = $1");
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = position });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new LogCursor(reader.GetFieldValue<ulong>(0), position) : null;
    }

    /// <summary>The position of the last event in subscription order, or null when the log is empty.</summary>
    public async Task<long?> LastPositionAsync(CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("select position from es_events order by tx_id desc, position desc limit 1");
        return await cmd.ExecuteScalarAsync(ct) is long head ? head : null;
    }

    /// <summary>True when more than <paramref name="max"/> events of the streams follow <paramref name="after"/>.</summary>
    public async Task<bool> CountExceedsAsync(IReadOnlyCollection<StreamFrom> streams, LogCursor after, int max, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"select count(*) from (select 1 {InStreams} limit $5) backlog");
        AddParameters(cmd, streams, after);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = max + 1 });
        return (long)(await cmd.ExecuteScalarAsync(ct))! > max;
    }

    /// <summary>Up to <paramref name="limit"/> events of the streams after <paramref name="after"/>, in subscription order.</summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadAfterAsync(
        IReadOnlyCollection<StreamFrom> streams, LogCursor after, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var cmd = dataSource.CreateCommand($"""
            select {PostgresEventStore.Columns}
            {InStreams}
            order by e.tx_id, e.position limit $5
            """);
        AddParameters(cmd, streams, after);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var page = new List<RecordedEvent>();
        while (await reader.ReadAsync(ct))
        {
            page.Add(PostgresEventStore.Map(reader));
        }
        return page;
    }

    private static void AddParameters(NpgsqlCommand cmd, IReadOnlyCollection<StreamFrom> streams, LogCursor after)
    {
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streams.Select(s => s.StreamId).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = streams.Select(s => s.FromVersion).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<ulong> { TypedValue = after.TxId, NpgsqlDbType = NpgsqlDbType.Xid8 });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.Position });
    }
}
