-- A pending password reset (the user fold's Reset): the SHA-256 of the mailed secret, when it was asked for, until when
-- it works. Cleared by a password change.
alter table ws_users
    add column if not exists reset_token_hash   text,
    add column if not exists reset_requested_at timestamptz,
    add column if not exists reset_expires_at   timestamptz;

-- Every bearer token issued (log-in, registration), until it would expire: "log out everywhere", a password change and
-- a reset revoke a user's tokens by copying their ids into ws_revoked_tokens.
create table if not exists ws_issued_tokens (
    token_id   uuid        primary key,
    user_id    text        not null,
    expires_at timestamptz not null
);
create index if not exists ws_issued_tokens_user on ws_issued_tokens (user_id);

-- The mail outbox: a command that decides a mail writes it here in its own transaction; the mail worker sends it.
-- cause names what the mail is for (one mail per cause: a second insert for it is ignored); mail_id is derived from it
-- and is the Message-ID. A worker claims a due row by moving next_attempt_at past a lease, sends, then sets sent_at (and
-- drops the bodies, which may hold a reset link) or, on a failure, the next attempt's time with a backoff.
create table if not exists ws_mail_outbox (
    mail_id         uuid        primary key,
    cause           text        not null unique,
    recipient       text        not null,
    subject         text        not null,
    text_body       text        not null,
    html_body       text        not null,
    created_at      timestamptz not null,
    attempts        int         not null default 0,
    next_attempt_at timestamptz not null,
    sent_at         timestamptz,
    last_error      text
);
create index if not exists ws_mail_outbox_due on ws_mail_outbox (next_attempt_at) where sent_at is null;
