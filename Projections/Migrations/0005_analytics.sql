-- Analytics: a read-only schema of views over the read models (and, for channel growth, the member events of the
-- log), for analysts who query with SQL. Read with the role esc_analyst, which may only SELECT from these views.
--
-- Each view selects from a SECURITY DEFINER function of the same name plus "_rows". A function's body names its
-- tables when it runs, not when it is created, so the views survive a projection rebuild (which swaps rm_{name}
-- schemas and drops the old one) and may be created before the projections first create their tables; and analysts
-- need no privilege on the read models themselves. Days and weeks are UTC; a week starts on Monday.

-- Bodies name read-model tables that a fresh database does not have yet: check them when they run.
set local check_function_bodies = off;

create schema if not exists analytics;

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'esc_analyst') then
        create role esc_analyst nologin;
    end if;
exception when duplicate_object or unique_violation then
    null; -- roles are cluster-wide: another database's migration created it at the same moment
end $$;

-- Messages posted per channel per day (tombstones included: they were posted), with replies and deletions.
create function analytics.messages_per_channel_day_rows()
returns table (workspace_id text, channel_id text, channel_name text, day date,
               messages bigint, replies bigint, deleted bigint, authors bigint)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select c.workspace_id, m.channel_id, c.name, (m.created_at at time zone 'UTC')::date,
           count(*), count(*) filter (where m.thread_root_seq is not null), count(*) filter (where m.deleted),
           count(distinct m.user_id)
      from rm_history.messages m
      join rm_directory.channels c on c.channel_id = m.channel_id
     group by 1, 2, 3, 4
$$;

-- Who did something: posted a message or reacted (reactions still standing).
create function analytics.activity_rows()
returns table (workspace_id text, user_id text, at timestamptz)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select c.workspace_id, m.user_id, m.created_at
      from rm_history.messages m join rm_directory.channels c on c.channel_id = m.channel_id
    union all
    select c.workspace_id, r.user_id, r.reacted_at
      from rm_history.reactions r join rm_directory.channels c on c.channel_id = r.channel_id
$$;

create function analytics.active_users_per_day_rows()
returns table (workspace_id text, day date, active_users bigint)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select a.workspace_id, (a.at at time zone 'UTC')::date, count(distinct a.user_id)
      from analytics.activity_rows() a group by 1, 2
$$;

create function analytics.active_users_per_week_rows()
returns table (workspace_id text, week date, active_users bigint)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select a.workspace_id, date_trunc('week', a.at at time zone 'UTC')::date, count(distinct a.user_id)
      from analytics.activity_rows() a group by 1, 2
$$;

-- Time from a thread's root to its first reply, per channel: median and 90th percentile (seconds) over its threads.
create function analytics.thread_reply_times_rows()
returns table (workspace_id text, channel_id text, channel_name text, threads bigint,
               median_first_reply_seconds double precision, p90_first_reply_seconds double precision)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select c.workspace_id, t.channel_id, c.name, count(*),
           percentile_cont(0.5) within group (order by t.seconds),
           percentile_cont(0.9) within group (order by t.seconds)
      from (select root.channel_id,
                   extract(epoch from min(reply.created_at) - root.created_at)::double precision as seconds
              from rm_history.messages root
              join rm_history.messages reply
                on reply.channel_id = root.channel_id and reply.thread_root_seq = root.seq
             where root.thread_root_seq is null
             group by root.channel_id, root.seq, root.created_at) t
      join rm_directory.channels c on c.channel_id = t.channel_id
     group by 1, 2, 3
$$;

-- Reactions standing now, per workspace and emoji, ranked (1 = most used).
create function analytics.top_reactions_rows()
returns table (workspace_id text, emoji text, reactions bigint, messages bigint, users bigint, rank bigint)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select x.*, rank() over (partition by x.workspace_id order by x.reactions desc, x.emoji)
      from (select c.workspace_id, r.emoji, count(*) as reactions,
                   count(distinct (r.channel_id, r.seq)) as messages, count(distinct r.user_id) as users
              from rm_history.reactions r join rm_directory.channels c on c.channel_id = r.channel_id
             group by 1, 2) x
$$;

-- Members joining and leaving each channel per day, and its member count at the end of that day. Read from the log's
-- member events (the directory keeps only who is a member now, not when they came and went).
create function analytics.channel_growth_rows()
returns table (workspace_id text, channel_id text, channel_name text, day date,
               joined bigint, "left" bigint, members bigint)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select c.workspace_id, d.channel_id, c.name, d.day, d.joined, d.left_,
           sum(d.joined - d.left_) over (partition by d.channel_id order by d.day)::bigint
      from (select substr(e.stream_id, 9) as channel_id, (e.created_at at time zone 'UTC')::date as day,
                   sum(case e.type when 'member.joined.v1' then 1
                                   when 'channel.created.v1' then jsonb_array_length(e.data -> 'members')
                                   else 0 end)::bigint as joined,
                   count(*) filter (where e.type = 'member.left.v1') as left_
              from public.es_events e
             where e.stream_id like 'channel-%'
               and e.type in ('member.joined.v1', 'member.left.v1', 'channel.created.v1')
             group by 1, 2) d
      join rm_directory.channels c on c.channel_id = d.channel_id
$$;

create view analytics.messages_per_channel_day as select * from analytics.messages_per_channel_day_rows();
create view analytics.active_users_per_day as select * from analytics.active_users_per_day_rows();
create view analytics.active_users_per_week as select * from analytics.active_users_per_week_rows();
create view analytics.thread_reply_times as select * from analytics.thread_reply_times_rows();
create view analytics.top_reactions as select * from analytics.top_reactions_rows();
create view analytics.channel_growth as select * from analytics.channel_growth_rows();

comment on view analytics.messages_per_channel_day is 'Messages posted per channel per UTC day (tombstones included), replies, deleted, distinct authors.';
comment on view analytics.active_users_per_day is 'Distinct users who posted or reacted, per workspace and UTC day.';
comment on view analytics.active_users_per_week is 'Distinct users who posted or reacted, per workspace and UTC week (starting Monday).';
comment on view analytics.thread_reply_times is 'Per channel: threads with a reply, median and p90 seconds from root to first reply.';
comment on view analytics.top_reactions is 'Standing reactions per workspace and emoji, with messages and users, ranked.';
comment on view analytics.channel_growth is 'Per channel and UTC day: members joined, left, and the member count at the end of the day.';

-- esc_analyst reads the views and nothing else.
revoke all on all functions in schema analytics from public;
grant usage on schema analytics to esc_analyst;
grant select on all tables in schema analytics to esc_analyst;
grant execute on all functions in schema analytics to esc_analyst;
