-- Deleting deleted messages' files (docs/files.md): how many messages ever attached each upload. The deletion counts the
-- messages that carried a file in the log (the `files` projection) and releases the upload only when the two agree, so
-- a post that attached the file again and that the projection has not seen yet keeps it (a row lock orders the two).
-- Files attached before this migration count one attachment (the log is not read here): exact for a file shared once;
-- one shared more than once before is kept unless a new share in the projection's lag makes the counts equal.
alter table ws_files add column attach_count int not null default 0;
update ws_files set attach_count = 1 where attached_at is not null;
