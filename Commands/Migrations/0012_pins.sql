-- Pins (message.pinned / message.unpinned): what deciding a pin needs, kept like the rest of the write side in the
-- append's transaction. A message row knows whether it is pinned; the channel row counts its pinned messages, so the
-- per-channel cap is checked in O(1). Derivable from the log: no event before this migration pins anything.
alter table ws_messages add column pinned boolean not null default false;
alter table ws_channels add column pin_count int not null default 0;
