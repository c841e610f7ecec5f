-- The appends' duplicate check looks each event id up by the whole key (stream, event id), one id at a time, instead of
-- "stream_id = p_stream and event_id = any (p_ids)". PostgreSQL may plan the latter, once and for good in a session's
-- cached plan, as a scan of the stream's index entries filtered by id: it costs one index descent per array element
-- (ten, for an array it cannot see) against a stream it believes short, as it does on a table without statistics yet.
-- Such a plan reads the whole stream at every append (0.4 ms a post at 2,700 events, and growing with the channel).
-- An equality on both columns of the unique key is never planned otherwise. Behaviour is unchanged: same checks, same
-- errors (ES409, ES422, ES40R), same answers; a stored duplicate answers its rows in the order of the given ids.

create or replace function es_append(
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
    v_found    bigint;
    v_id       uuid;
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
        -- One lookup of the whole key (stream, event id) per id: see the note at the top.
        v_existing := 0;
        foreach v_id in array p_ids loop
            select e.version into v_found from es_events e where e.stream_id = p_stream and e.event_id = v_id;
            if found then
                v_existing := v_existing + 1;
                v_dup_ver := greatest(v_dup_ver, v_found);
            end if;
        end loop;
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

create or replace function es_append_each(
    p_stream text, p_expected bigint, p_ids uuid[], p_types text[],
    p_data jsonb[], p_metadata jsonb[], p_at timestamptz, p_trace_parents text[])
returns table (out_version bigint, out_position bigint, out_duplicate boolean, out_created_at timestamptz)
language plpgsql as $$
declare
    v_tx       xid8;
    v_version  bigint;
    v_last_tx  xid8;
    v_hash     bytea;
    v_prev     bytea;
    v_existing int;
    v_id       uuid;
    v_position bigint;
    i          int;
begin
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
        -- One lookup of the whole key (stream, event id) per id: see the note at the top.
        v_existing := 0;
        foreach v_id in array p_ids loop
            perform from es_events e where e.stream_id = p_stream and e.event_id = v_id;
            if found then
                v_existing := v_existing + 1;
            end if;
        end loop;
        if v_existing > 0 then
            if v_existing < cardinality(p_ids) then
                raise exception using errcode = 'ES422',
                    message = format('%s of %s event ids are already in stream %s', v_existing, cardinality(p_ids), p_stream);
            end if;
            foreach v_id in array p_ids loop
                return query select e.version, e.position, true, e.created_at
                  from es_events e where e.stream_id = p_stream and e.event_id = v_id;
            end loop;
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
        values (p_stream, v_version, p_ids[i], p_types[i], p_data[i], p_metadata[i], p_at, v_prev, v_hash, p_trace_parents[i])
        returning position into v_position;
        out_version := v_version;
        out_position := v_position;
        out_duplicate := false;
        out_created_at := p_at;
        return next;
    end loop;

    update es_streams set version = v_version, last_tx = v_tx, last_hash = v_hash where stream_id = p_stream;
    return;
end
$$;
