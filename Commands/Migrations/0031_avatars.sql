-- Avatars (user.avatar_set, user.avatar_removed): the avatar a profile command decides on, as
-- {fileId, sha256, images: [{size, objectId}]}, null for none; kept like the rest of ws_users in the append's
-- transaction. Derivable from the log: no event before this migration sets an avatar.
alter table ws_users add column avatar jsonb;
