-- Failed log-ins per account (key 'account:{email}') and per client address (key 'address:{ip}'), counted in a
-- fixed window that starts with the first failure; shared by every API node.
create table if not exists ws_login_failures (
    key               text        primary key,
    failures          int         not null,
    window_started_at timestamptz not null
);

-- Bearer tokens revoked by log-out, until they would have expired anyway.
create table if not exists ws_revoked_tokens (
    token_id   uuid        primary key,
    expires_at timestamptz not null
);
