-- Profiles (user.profile_updated, user.status_set, user.status_cleared): what deciding a profile or status change
-- needs, kept like the rest of the write side in the append's transaction. status_emoji is null when no status is set;
-- an expired status stays as set (it reads as none: the expiry is computed, nothing is written for it). Derivable from
-- the log: no event before this migration changes a profile.
alter table ws_users add column title text;
alter table ws_users add column time_zone text;
alter table ws_users add column status_emoji text;
alter table ws_users add column status_text text;
alter table ws_users add column status_expires_at timestamptz;
