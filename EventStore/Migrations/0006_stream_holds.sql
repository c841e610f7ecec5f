-- Legal holds: while a stream has a row here, none of its events (nor its stream row) can be deleted or changed, by
-- any client of the database (a retention job, an erasure script, a hand-written statement). Appends go on as usual.

create table es_stream_holds (
    stream_id text primary key,
    reason    text,
    placed_at timestamptz not null default now()
);

-- A delete or update of a stream's rows takes the stream's hold key shared (until its transaction ends); placing a hold
-- takes it exclusively first (es_lock_for_hold). So a hold cannot slip in beside a delete that has already checked:
-- the hold waits for that delete to commit or roll back, and every later delete sees the hold.
create function es_guard_held_streams()
returns trigger
language plpgsql as $$
begin
    perform pg_advisory_xact_lock_shared(hashtextextended('es_hold:' || old.stream_id, 0));
    if exists (select 1 from es_stream_holds h where h.stream_id = old.stream_id) then
        raise exception using errcode = 'ES423',
            message = format('stream %s is on legal hold: its events cannot be %s', old.stream_id,
                             case tg_op when 'DELETE' then 'deleted' else 'changed' end);
    end if;
    return case tg_op when 'DELETE' then old else new end;
end
$$;

create trigger es_events_held before update or delete on es_events
    for each row execute function es_guard_held_streams();
create trigger es_streams_held before delete on es_streams
    for each row execute function es_guard_held_streams();

create function es_lock_for_hold(p_stream text)
returns void
language sql as $$
    select pg_advisory_xact_lock(hashtextextended('es_hold:' || p_stream, 0))
$$;
