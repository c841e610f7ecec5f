-- Invites to a workspace (workspace.invite_created, .invite_accepted, .invite_revoked): what deciding an accept or a
-- revoke needs, kept like the rest of the write side in the append's transaction. code_hash is the SHA-256 (hex) of the
-- link's secret, never the secret; email is set (lower case) for an invite mailed to one address. Derivable from the
-- log: no event before this migration is an invite event.
create table if not exists ws_invites (
    invite_id    text        primary key,
    workspace_id text        not null,
    code_hash    text        not null,
    email        text,
    max_uses     int         not null,
    uses         int         not null default 0,
    expires_at   timestamptz not null,
    created_by   text        not null,
    revoked      boolean     not null default false
);
create index if not exists ws_invites_workspace on ws_invites (workspace_id);
