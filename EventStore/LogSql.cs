namespace EventSourcedChat.EventStore;

/// <summary>
/// The log as SQL, for a caller whose own statement must read it: a sort or a join that has to run inside PostgreSQL
/// together with the caller's SQL (an as-of view that sorts a stream's events by what they change, through a
/// server-side cursor, say). Prefer the typed reads (<see cref="PostgresEventStore"/>, <see cref="StreamHistoryReader"/>,
/// <see cref="StreamSetReader"/>); these keep the log's table names in this project.
/// </summary>
public static class LogSql
{
    /// <summary>
    /// A FROM item (give it an alias) with the events of the stream named by <paramref name="streamParameter"/> (a
    /// parameter placeholder such as <c>$1</c>), one row per event with the columns <c>position</c>, <c>tx_id</c> (xid8),
    /// <c>stream_id</c>, <c>version</c>, <c>event_id</c>, <c>type</c>, <c>data</c> (jsonb), <c>metadata</c> (jsonb),
    /// <c>created_at</c>, <c>prev_hash</c>, <c>hash</c>, <c>trace_parent</c>. A plain filter of the event table, which
    /// PostgreSQL flattens into the caller's query: it plans as if the caller had named the table.
    /// </summary>
    public static string StreamEvents(string streamParameter) => $"""
        (select position, tx_id, stream_id, version, event_id, type, data, metadata, created_at, prev_hash, hash, trace_parent
           from es_events where stream_id = {streamParameter})
        """;
}
