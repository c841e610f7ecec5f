using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>Where a checkpoint stands against the log: its position, the log's head, and how long the oldest event it
/// has not passed has been waiting (0 when it is caught up).</summary>
public sealed record CheckpointLag(string Name, long Position, long HeadPosition, double OldestPendingSeconds);

/// <summary>
/// How far named checkpoints have come along the log: whether they all passed an event (read-your-writes), and each
/// one's lag behind the head (operators' status).
/// </summary>
public sealed class CheckpointProgress(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// True when every checkpoint in <paramref name="names"/> is at or past the event at global position
    /// <paramref name="position"/>, in subscription order (transaction id, position). A position that names no event is
    /// reached once the log's head has gone beyond it (it was a rolled-back append). One query.
    /// </summary>
    public async Task<bool> AllPassedAsync(long position, string[] names, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            select case
                when e.position is null then $1 <= (select coalesce(max(position), 0) from es_events)
                else (select count(*) from es_checkpoints c
                       where c.name = any($2) and (c.tx_id, c.position) >= (e.tx_id, e.position)) = cardinality($2)
            end
            from (select 1) one left join es_events e on e.position = $1
            """);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = position });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = names });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// A statement answering one row per name, in the order given, that <see cref="ReadLag"/> reads: for a caller that
    /// reads the lag in the same round trip (an <see cref="NpgsqlBatch"/>) as its own state. A checkpoint that does not
    /// exist stands at position 0.
    /// </summary>
    public static NpgsqlBatchCommand Lag(IReadOnlyList<string> names)
    {
        var command = new NpgsqlBatchCommand("""
            select n.name, coalesce(c.position, 0), h.head,
                   coalesce(extract(epoch from now() - (
                       select e.created_at from es_events e
                        where (e.tx_id, e.position) > (coalesce(c.tx_id, '0'::xid8), coalesce(c.position, 0))
                        order by e.tx_id, e.position limit 1)), 0)::float8
              from unnest($1::text[]) with ordinality n(name, ordinal)
              cross join (select coalesce(max(position), 0) as head from es_events) h
              left join es_checkpoints c on c.name = n.name
             order by n.ordinal
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. names] });
        return command;
    }

    /// <summary>One row of <see cref="Lag"/>.</summary>
    public static CheckpointLag ReadLag(NpgsqlDataReader row) =>
        new(row.GetString(0), row.GetInt64(1), row.GetInt64(2), Math.Max(0, row.GetDouble(3)));

    /// <summary>The lag of each named checkpoint, in the order given.</summary>
    public async Task<IReadOnlyList<CheckpointLag>> LagAsync(IReadOnlyList<string> names, CancellationToken ct = default)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Lag(names));
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var lags = new List<CheckpointLag>(names.Count);
        while (await reader.ReadAsync(ct))
        {
            lags.Add(ReadLag(reader));
        }
        return lags;
    }
}
