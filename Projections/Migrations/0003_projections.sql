-- Where each projection stands: running, failed (with the event that failed) or rebuilding.
create table projection_status (
    name            text primary key,
    state           text not null,            -- running | failed | stopped
    owner           text,                     -- the node holding the lease
    error           text,
    failed_position bigint,
    failed_event_id uuid,
    updated_at      timestamptz not null default now()
);
