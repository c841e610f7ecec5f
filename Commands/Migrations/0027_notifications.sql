-- Notifications for people who are away (docs/notifications.md).

-- The write side of the user streams' notification events (UserState's Notifications, ChannelNotifications and
-- FollowedThreads), moved by UserWriteSide.ApplyAsync in the append's transaction: what the commands decide on.
create table if not exists ws_notification_preferences (
    user_id        text primary key,
    email          boolean not null,
    digest_minutes int     not null,
    dnd_from       text,
    dnd_to         text,
    dnd_time_zone  text,
    snooze_until   timestamptz
);

create table if not exists ws_channel_notifications (
    user_id    text    not null,
    channel_id text    not null,
    level      text    not null,
    muted      boolean not null,
    primary key (user_id, channel_id)
);

create table if not exists ws_thread_follows (
    user_id    text    not null,
    channel_id text    not null,
    root_seq   bigint  not null,
    following  boolean not null,
    primary key (user_id, channel_id, root_seq)
);

-- The notification worker's own state, folded from the log by its subscription (checkpoint 'notify') in the same
-- transaction that moves its checkpoint: who is in which channel, who follows which thread, each person's address and
-- preferences as of the events it has applied. Never read by commands or queries.
create table if not exists nt_workspaces (
    workspace_id text primary key,
    name         text not null
);

create table if not exists nt_channels (
    channel_id   text primary key,
    workspace_id text not null,
    name         text not null,
    kind         text not null
);

create table if not exists nt_members (
    channel_id text not null,
    user_id    text not null,
    primary key (channel_id, user_id)
);

create table if not exists nt_users (
    user_id        text primary key,
    email          text    not null,
    display_name   text    not null,
    email_enabled  boolean not null default true,
    digest_minutes int     not null default 0,
    dnd_from       text,
    dnd_to         text,
    dnd_time_zone  text,
    snooze_until   timestamptz,
    -- The digests mailed so far (the next one's cause is notify-digest:{user_id}:{digests + 1}) and when the last went.
    digests        int     not null default 0,
    last_mail_at   timestamptz
);

create table if not exists nt_channel_settings (
    user_id    text    not null,
    channel_id text    not null,
    level      text    not null,
    muted      boolean not null,
    primary key (user_id, channel_id)
);

-- Followers of a thread: its root's author and every replier (automatically), and whoever followed it by hand; an
-- unfollow keeps the row with following = false until the person replies or follows again.
create table if not exists nt_follows (
    channel_id text    not null,
    root_seq   bigint  not null,
    user_id    text    not null,
    following  boolean not null,
    primary key (channel_id, root_seq, user_id)
);

-- One row per person and message that was to be notified, ever: the primary key is why a message is never mailed twice
-- to the same person. state: pending (waiting for due_at), sent (in digest number digest), read (read before it was
-- due), seen (the person was active when it was due), dropped (deleted, muted, left the channel, mail turned off).
create table if not exists nt_items (
    user_id      text        not null,
    channel_id   text        not null,
    seq          bigint      not null,
    workspace_id text        not null,
    reason       text        not null,
    author_id    text        not null,
    excerpt      text        not null,
    posted_at    timestamptz not null,
    due_at       timestamptz not null,
    state        text        not null default 'pending',
    digest       int,
    primary key (user_id, channel_id, seq)
);
create index if not exists nt_items_due on nt_items (due_at) where state = 'pending';
create index if not exists nt_items_message on nt_items (channel_id, seq) where state = 'pending';
