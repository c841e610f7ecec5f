-- The event log. Chat-agnostic: streams of JSON events, a global position, and a hash chain per stream.

create table es_streams (
    stream_id text primary key,
    version   bigint not null,           -- number of events in the stream (0 = none yet)
    last_tx   xid8   not null,           -- transaction that wrote the stream's last event
    last_hash bytea  not null            -- hash of the stream's last event (chain head)
);

create table es_events (
    position   bigint generated always as identity primary key,
    tx_id      xid8        not null default pg_current_xact_id(),
    stream_id  text        not null,
    version    bigint      not null,
    event_id   uuid        not null,
    type       text        not null,
    data       jsonb       not null,
    metadata   jsonb       not null,
    created_at timestamptz not null,
    prev_hash  bytea       not null,
    hash       bytea       not null,
    constraint es_events_stream_version unique (stream_id, version),
    constraint es_events_stream_event unique (stream_id, event_id)
);

-- Subscriptions read in (tx_id, position) order below the snapshot's xmin.
create index es_events_tx_position on es_events (tx_id, position);

create table es_checkpoints (
    name       text        primary key,
    tx_id      xid8        not null,
    position   bigint      not null,
    updated_at timestamptz not null default now()
);

-- What an event's hash covers: the previous hash and every stored field, in a fixed text form.
create function es_event_hash(
    p_prev bytea, p_stream text, p_version bigint, p_event_id uuid, p_type text,
    p_data jsonb, p_metadata jsonb, p_created_at timestamptz)
returns bytea
language sql immutable parallel safe as $$
    select sha256(p_prev || convert_to(concat_ws(chr(31),
        p_stream, p_version::text, p_event_id::text, p_type,
        p_data::text, p_metadata::text,
        (extract(epoch from p_created_at) * 1000000)::bigint::text), 'UTF8'))
$$;

-- Appends events to one stream in a single round trip.
-- p_expected: -1 any, -2 stream exists, 0 no stream, n > 0 exact version.
-- Raises ES409 (wrong expected version; HINT carries the actual version),
-- ES422 (some but not all event ids already in the stream),
-- ES40R (the stream was last written by a younger transaction, possible only when the caller's transaction took its
-- id before calling; retry in a new transaction).
create function es_append(
    p_stream text, p_expected bigint, p_ids uuid[], p_types text[],
    p_data jsonb[], p_metadata jsonb[], p_at timestamptz)
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
        insert into es_events (stream_id, version, event_id, type, data, metadata, created_at, prev_hash, hash)
        values (p_stream, v_version, p_ids[i], p_types[i], p_data[i], p_metadata[i], p_at, v_prev, v_hash)
        returning position into v_position;
    end loop;

    update es_streams set version = v_version, last_tx = v_tx, last_hash = v_hash where stream_id = p_stream;
    -- No NOTIFY here: PostgreSQL serializes the commits of notifying transactions (a global lock held through the
    -- WAL flush), which would undo group commit. The store notifies after commit instead (CommitNotifier).
    return query select v_version, v_position, false, p_at;
end
$$;
