-- Group commit: a writer that appends many commands' events to one stream in one transaction.
--
-- es_lock_stream takes the stream's append lock (the one es_append takes) without a transaction id, so a writer can
-- lock the stream first, read the state it decides on, then append: no transaction id is taken before the append, so
-- the "written by a younger transaction" order check (ES40R) cannot fire for such a writer. Advisory locks are
-- re-entrant: es_append/es_append_each take it again at no cost.
create function es_lock_stream(p_stream text)
returns void
language sql as $$
    select pg_advisory_xact_lock(hashtextextended('es_stream:' || p_stream, 0))
$$;

-- es_append with one row per event (version, position, created_at): a group of commands appended in one call gets
-- each command's own version and position. Metadata and trace context are per event (each command has its actor).
-- Same checks and errors as es_append (ES409, ES422, ES40R); when every id is already stored it answers the stored
-- events' rows with out_duplicate = true, without writing.
create function es_append_each(
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
        select count(*) into v_existing from es_events e where e.stream_id = p_stream and e.event_id = any (p_ids);
        if v_existing > 0 then
            if v_existing < cardinality(p_ids) then
                raise exception using errcode = 'ES422',
                    message = format('%s of %s event ids are already in stream %s', v_existing, cardinality(p_ids), p_stream);
            end if;
            return query select e.version, e.position, true, e.created_at
              from unnest(p_ids) with ordinality as x(id, n)
              join es_events e on e.stream_id = p_stream and e.event_id = x.id
             order by x.n;
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
