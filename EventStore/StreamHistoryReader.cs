using System.Runtime.CompilerServices;
using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// Reads of one stream's past, streamed so that memory does not grow with the stream: a range of versions in keyset
/// pages (an audit export), and the stream as it stood at an instant (an as-of view).
/// </summary>
public sealed class StreamHistoryReader(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// The events with versions <paramref name="fromVersion"/>..<paramref name="toVersion"/> (inclusive) in version
    /// order: keyset pages of <paramref name="pageSize"/> of the <c>(stream_id, version)</c> index, on one connection with
    /// one prepared statement; a page is read only once the caller has consumed the one before.
    /// </summary>
    public async IAsyncEnumerable<RecordedEvent> ReadRangeAsync(
        string stream, long fromVersion, long toVersion, int pageSize, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand($"""
            select {PostgresEventStore.Columns}
              from es_events
             where stream_id = $1 and version >= $2 and version <= $3
             order by version
             limit $4
            """, conn);
        var from = new NpgsqlParameter<long> { TypedValue = fromVersion };
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(from);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = toVersion });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pageSize });
        await cmd.PrepareAsync(ct);
        while (from.TypedValue <= toVersion)
        {
            var rows = 0;
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    rows++;
                    var e = PostgresEventStore.Map(reader);
                    from.TypedValue = e.Version + 1;
                    yield return e;
                }
            }
            if (rows < pageSize)
            {
                break;
            }
        }
    }

    /// <summary>
    /// The version of the stream's last event stored at or before <paramref name="at"/> with version up to
    /// <paramref name="toVersion"/>; 0 when there is none.
    /// </summary>
    public async Task<long> LastVersionAsOfAsync(string stream, long toVersion, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            select coalesce(max(version), 0) from es_events where stream_id = $1 and version <= $2 and created_at <= $3
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = toVersion });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The stream's events of the given <paramref name="types"/> stored at or before <paramref name="at"/> with version up
    /// to <paramref name="toVersion"/>, in version order, streamed from one query.
    /// </summary>
    public async IAsyncEnumerable<RecordedEvent> ReadAsOfAsync(
        string stream, long toVersion, DateTimeOffset at, string[] types, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"""
            select {PostgresEventStore.Columns} from es_events
             where stream_id = $1 and version <= $2 and created_at <= $3 and type = any($4)
             order by version
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = toVersion });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return PostgresEventStore.Map(reader);
        }
    }
}
