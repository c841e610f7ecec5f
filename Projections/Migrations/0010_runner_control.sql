-- When the owner's current run began, and when an operator last asked for a restart (POST .../restart): the node
-- that owns the runner restarts it when the request is newer than its run.
alter table projection_status add column started_at timestamptz;
alter table projection_status add column restart_requested_at timestamptz;
