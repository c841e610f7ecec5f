-- The W3C trace context (traceparent) of the request that appended an event, kept beside the event and outside its
-- hash: it is observability, not history (the audit export leaves it out, and the chain verifies without
-- it). Null when the append ran outside a sampled trace. es_append takes it as an optional last argument.
alter table es_events add column trace_parent text;

drop function es_append(text, bigint, uuid[], text[], jsonb[], jsonb[], timestamptz);

create function es_append(
    p_stream text, p_expected bigint, p_ids uuid[], p_types text[],
    p_data jsonb[], p_metadata jsonb[], p_at timestamptz, p_trace_parent text default null)
returns table (out_version bigint, out_position bigint, out_duplicate boolean, out_created_at timestamptz)
language plpgsql as $$
declare
    v_tx       xid8;
    v_version  bigint;
    v_last_tx  xid8;
    v_hash     bytea;
    v_prev     bytea;
    v_existing int;
    v_dup_ver  bigint;
    v_position bigint;
    i          int;
begin
    -- Appends to one stream take turns on a transaction-level advisory lock, which needs no transaction id; the id is
    -- taken only once the lock is held, so each writer of a stream gets a younger id than the one before it.
    perform pg_advisory_xact_lock(hashtextextended('es_stream:' || p_stream, 0));
    v_tx := pg_current_xact_id();
    select s.version, s.last_tx, s.last_hash into v_version, v_last_tx, v_hash
      from es_streams s where s.stream_id = p_stream;
    if not found then
        insert into es_streams (stream_id, version, last_tx, last_hash)
        values (p_stream, 0, v_tx, decode(repeat('00', 32), 'hex'))
        on conflict (stream_id) do nothing;
        select s.version, s.last_tx, s.last_hash into v_version, v_last_tx, v_hash
          from es_streams s where s.stream_id = p_stream;
    end if;

    if v_version > 0 then
        select count(*), max(e.version) into v_existing, v_dup_ver
          from es_events e where e.stream_id = p_stream and e.event_id = any (p_ids);
        if v_existing > 0 then
            if v_existing < cardinality(p_ids) then
                raise exception using errcode = 'ES422',
                    message = format('%s of %s event ids are already in stream %s', v_existing, cardinality(p_ids), p_stream);
            end if;
            return query select e.version, e.position, true, e.created_at from es_events e
             where e.stream_id = p_stream and e.version = v_dup_ver;
            return;
        end if;
    end if;

    if (p_expected = -2 and v_version = 0) or (p_expected >= 0 and p_expected <> v_version) then
        raise exception using errcode = 'ES409',
            message = format('stream %s is at version %s, expected %s', p_stream, v_version, p_expected),
            hint = v_version::text;
    end if;

    if v_last_tx > v_tx then
        raise exception using errcode = 'ES40R',
            message = format('stream %s was written by a younger transaction; retry', p_stream);
    end if;

    for i in 1 .. cardinality(p_ids) loop
        v_version := v_version + 1;
        v_prev := v_hash;
        v_hash := es_event_hash(v_prev, p_stream, v_version, p_ids[i], p_types[i], p_data[i], p_metadata[i], p_at);
        insert into es_events (stream_id, version, event_id, type, data, metadata, created_at, prev_hash, hash, trace_parent)
        values (p_stream, v_version, p_ids[i], p_types[i], p_data[i], p_metadata[i], p_at, v_prev, v_hash, p_trace_parent)
        returning position into v_position;
    end loop;

    update es_streams set version = v_version, last_tx = v_tx, last_hash = v_hash where stream_id = p_stream;
    -- No NOTIFY here: PostgreSQL serializes the commits of notifying transactions (a global lock held through the
    -- WAL flush), which would undo group commit. The store notifies after commit instead (CommitNotifier).
    return query select v_version, v_position, false, p_at;
end
$$;
