-- Write-side state: what deciding a command needs, kept in the same transaction as each append
-- (never rebuilt by replaying a channel's messages). Every row is derivable from the log.

create table ws_users (
    user_id       text primary key,
    email         text not null,
    display_name  text not null,
    password_hash text not null
);
create unique index ws_users_email on ws_users (lower(email));

create table ws_workspaces (
    workspace_id text primary key,
    name         text not null,
    created_by   text not null,
    version      bigint not null
);

create table ws_workspace_members (
    workspace_id text not null,
    user_id      text not null,
    role         text not null,
    primary key (workspace_id, user_id)
);
create index ws_workspace_members_user on ws_workspace_members (user_id);

create table ws_channels (
    channel_id   text primary key,
    workspace_id text not null,
    name         text not null,
    kind         text not null,            -- public | private | dm
    topic        text,
    created_by   text not null,
    archived     boolean not null default false,
    version      bigint not null           -- the channel stream's version after the last append
);
create unique index ws_channels_name on ws_channels (workspace_id, name) where kind <> 'dm';

create table ws_channel_members (
    channel_id text not null,
    user_id    text not null,
    primary key (channel_id, user_id)
);

create table ws_messages (
    channel_id      text not null,
    seq             bigint not null,
    author_id       text not null,
    thread_root_seq bigint,
    deleted         boolean not null default false,
    primary key (channel_id, seq)
);

create table ws_reactions (
    channel_id text not null,
    seq        bigint not null,
    emoji      text not null,
    user_id    text not null,
    primary key (channel_id, seq, emoji, user_id)
);

create table ws_read_markers (
    user_id    text not null,
    channel_id text not null,
    seq        bigint not null,
    primary key (user_id, channel_id)
);

create table dp_keys (
    id           bigint generated always as identity primary key,
    friendly_name text,
    xml          text not null,
    created_at   timestamptz not null default now()
);
