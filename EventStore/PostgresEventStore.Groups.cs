using EventSourcedChat.EventStore.Telemetry;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.EventStore;

/// <summary>One event of a group append, with its own metadata (each command of a group has its actor).</summary>
public sealed record GroupEvent(EventData Event, EventMetadata Metadata, string? TraceParent = null);

/// <summary>
/// The pieces of a group commit, as batch statements a writer puts into its own round trips: lock a stream (no
/// transaction id taken), find which of a set of event ids a stream already holds, and append many commands' events to
/// one stream in one call that answers each event's version and position (<c>es_append_each</c>).
/// </summary>
public sealed partial class PostgresEventStore
{
    /// <summary>Takes the stream's append lock until the transaction ends, without taking a transaction id.</summary>
    public static NpgsqlBatchCommand LockStreamCommand(string stream)
    {
        var cmd = new NpgsqlBatchCommand("select es_lock_stream($1)");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        return cmd;
    }

    /// <summary>
    /// Tries <see cref="LockStreamCommand"/>'s lock without waiting: one row, true when it is now held until the
    /// transaction ends, false when another transaction holds it. A writer that takes several streams' locks takes all
    /// but its first this way, so it never waits holding locks another writer may wait for.
    /// </summary>
    public static NpgsqlBatchCommand TryLockStreamCommand(string stream)
    {
        var cmd = new NpgsqlBatchCommand("select pg_try_advisory_xact_lock(hashtextextended('es_stream:' || $1, 0))");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        return cmd;
    }

    /// <summary>The events of the stream among <paramref name="ids"/>: read with <see cref="ReadFoundEventsAsync"/>.</summary>
    /// <remarks>
    /// One lookup of the whole unique key per id (the subquery, fenced by its <c>limit</c>, runs once per id), not
    /// <c>stream_id = $1 and event_id = any ($2)</c>: PostgreSQL may plan that, once and for good in a connection's
    /// prepared statement, as a scan of the stream's index entries filtered by id (it did on a table without statistics
    /// yet), which reads the whole channel at every post. See migration 0032.
    /// </remarks>
    public static NpgsqlBatchCommand FindEventsCommand(string stream, IReadOnlyCollection<Guid> ids)
    {
        var cmd = new NpgsqlBatchCommand("""
            select e.event_id, e.version, e.position, e.created_at
              from unnest($2::uuid[]) as x(id)
              cross join lateral (select event_id, version, position, created_at from es_events
                                   where stream_id = $1 and event_id = x.id limit 1) e
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids.ToArray() });
        return cmd;
    }

    /// <summary>The rows of <see cref="FindEventsCommand"/> (the reader on its result), each as the duplicate result an append answers.</summary>
    public static async Task<Dictionary<Guid, AppendResult>> ReadFoundEventsAsync(NpgsqlDataReader r, CancellationToken ct)
    {
        var found = new Dictionary<Guid, AppendResult>();
        while (await r.ReadAsync(ct))
        {
            found[r.GetGuid(0)] = new AppendResult(r.GetInt64(1), r.GetInt64(2), true, r.GetFieldValue<DateTimeOffset>(3));
        }
        return found;
    }

    /// <summary>Checks events as an append would (<see cref="InvalidAppendException"/>), without appending.</summary>
    public void Validate(string stream, IReadOnlyList<EventData> events) => AppendInput.Validate(options, stream, events);

    /// <summary>
    /// The append of a group's events at <paramref name="expectedVersion"/>, as a batch statement; read its rows with
    /// <see cref="ReadAppendedAsync"/> (one per event, in order). Errors surface when the batch runs: translate them with
    /// <see cref="TranslateAsync{T}"/>.
    /// </summary>
    public NpgsqlBatchCommand AppendEachCommand(string stream, long expectedVersion, IReadOnlyList<GroupEvent> events)
    {
        var plain = events.Select(e => e.Event).ToList();
        AppendInput.Validate(options, stream, plain);
        var at = time.GetUtcNow();
        var cmd = new NpgsqlBatchCommand("select * from es_append_each($1, $2, $3, $4, $5, $6, $7, $8)");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedVersion });
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = plain.Select(e => e.EventId).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = plain.Select(e => e.Type).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<string[]>
        {
            TypedValue = plain.Select(e => e.Data).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
        });
        cmd.Parameters.Add(new NpgsqlParameter<string[]>
        {
            TypedValue = events.Select(e => AppendInput.StoredMetadata(e.Metadata, at)).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
        });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        cmd.Parameters.Add(new NpgsqlParameter<string?[]>
        {
            TypedValue = events.Select(e => e.TraceParent).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
        });
        return cmd;
    }

    /// <summary>The rows of <see cref="AppendEachCommand"/>: each event's version, position and time.</summary>
    public async Task<IReadOnlyList<AppendResult>> ReadAppendedAsync(NpgsqlDataReader r, CancellationToken ct)
    {
        var rows = new List<AppendResult>();
        while (await r.ReadAsync(ct))
        {
            rows.Add(new AppendResult(r.GetInt64(0), r.GetInt64(1), r.GetBoolean(2), r.GetFieldValue<DateTimeOffset>(3)));
        }
        if (rows.Count > 0 && !rows[0].Duplicate)
        {
            metrics?.Appended(rows.Count);
        }
        return rows;
    }

    /// <summary>Runs a batch holding <see cref="AppendEachCommand"/>, turning its errors into the store's exceptions.</summary>
    public static Task<T> TranslateAsync<T>(string stream, long expectedVersion, Func<Task<T>> run) =>
        TranslateAny(stream, ExpectedVersion.Exactly(expectedVersion), run);

    /// <summary>The trace context of the current request, as <see cref="GroupEvent.TraceParent"/> takes it.</summary>
    public static string? CurrentTraceParent() => ChatActivity.CurrentTraceParent();
}
