using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>The hash-chain check of a stream.</summary>
public sealed partial class PostgresEventStore
{
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
}
