using Npgsql;

namespace EventSourcedChat.Bench;

/// <summary>
/// What-if variants of <c>es_append</c>, for <c>--experiment=...</c> only: after migrating, the bench rewrites the
/// function in its own database (never in the migration) so that a proposed change can be measured through the
/// unchanged <c>AppendAsync</c>. Each rewrite is a text edit of the migrated function; when the function no longer
/// has the expected shape the run stops rather than measure something else.
/// </summary>
public static class Experiments
{
    public static IReadOnlyList<string> Names { get; } = ["no-notify", "lock-first", "set-insert"];

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, IReadOnlyCollection<string> experiments)
    {
        if (experiments.Count == 0)
        {
            return;
        }
        await using var get = dataSource.CreateCommand("select pg_get_functiondef('es_append'::regproc)");
        var sql = (string)(await get.ExecuteScalarAsync())!;
        foreach (var experiment in experiments)
        {
            sql = experiment switch
            {
                // No NOTIFY in the append transaction: PostgreSQL serialises the commits of notifying transactions
                // (a cluster-wide lock held from pre-commit until after the commit record is flushed).
                "no-notify" => Replace(sql, "perform pg_notify('es_events', v_position::text);", "-- (no-notify)"),

                // Take a per-stream advisory lock before the transaction id is assigned: the next writer's id is then
                // always newer than the previous writer's, so ES40R cannot happen; the row lock is no longer needed.
                "lock-first" => Replace(
                    Replace(
                        Replace(sql, "v_tx       xid8 := pg_current_xact_id();", "v_tx       xid8;"),
                        "begin\n    select s.version",
                        "begin\n    perform pg_advisory_xact_lock(hashtextextended(p_stream, 0));\n    v_tx := pg_current_xact_id();\n    select s.version"),
                    "from es_streams s where s.stream_id = p_stream for update;",
                    "from es_streams s where s.stream_id = p_stream;",
                    all: true),

                // Compute the hash chain in the loop, then insert all rows with one statement.
                "set-insert" => Replace(
                    Replace(sql, "    i          int;\n", "    i          int;\n    v_prevs    bytea[] := '{}';\n    v_hashes   bytea[] := '{}';\n"),
                    """
                        for i in 1 .. cardinality(p_ids) loop
                            v_version := v_version + 1;
                            v_prev := v_hash;
                            v_hash := es_event_hash(v_prev, p_stream, v_version, p_ids[i], p_types[i], p_data[i], p_metadata[i], p_at);
                            insert into es_events (stream_id, version, event_id, type, data, metadata, created_at, prev_hash, hash)
                            values (p_stream, v_version, p_ids[i], p_types[i], p_data[i], p_metadata[i], p_at, v_prev, v_hash)
                            returning position into v_position;
                        end loop;
                    """,
                    """
                        for i in 1 .. cardinality(p_ids) loop
                            v_prevs := v_prevs || v_hash;
                            v_hash := es_event_hash(v_hash, p_stream, v_version + i, p_ids[i], p_types[i], p_data[i], p_metadata[i], p_at);
                            v_hashes := v_hashes || v_hash;
                        end loop;
                        with inserted as (
                            insert into es_events (stream_id, version, event_id, type, data, metadata, created_at, prev_hash, hash)
                            select p_stream, v_version + u.n, u.id, u.type, u.data, u.meta, p_at, u.prev, u.hash
                              from unnest(p_ids, p_types, p_data, p_metadata, v_prevs, v_hashes)
                                   with ordinality as u(id, type, data, meta, prev, hash, n)
                             order by u.n
                            returning position)
                        select max(position) into v_position from inserted;
                        v_version := v_version + cardinality(p_ids);
                    """),
                _ => throw new ArgumentException(
                    $"Unknown experiment '{experiment}'; known: {string.Join(", ", Names)}."),
            };
        }
        await using var create = dataSource.CreateCommand(sql);
        await create.ExecuteNonQueryAsync();
    }

    private static string Replace(string sql, string from, string to, bool all = false)
    {
        var normalized = sql.Replace("\r\n", "\n", StringComparison.Ordinal);
        var at = normalized.IndexOf(from, StringComparison.Ordinal);
        if (at < 0 || (!all && normalized.IndexOf(from, at + from.Length, StringComparison.Ordinal) >= 0))
        {
            throw new InvalidOperationException(
                $"es_append no longer has the shape this experiment edits (looked for: {from.Trim()}).");
        }
        return all ? normalized.Replace(from, to, StringComparison.Ordinal) : normalized.Remove(at, from.Length).Insert(at, to);
    }
}
