using System.Text.Json;
using Npgsql;

namespace EventSourcedChat.ReadSideBench;

/// <summary>One generated channel: its id, creator, members (creator included) and the version after its joins.</summary>
internal sealed class GeneratedChannel(string id, string name, string creator, string[] members)
{
    public string Id { get; } = id;
    public string Name { get; } = name;
    public string Creator { get; } = creator;
    public string[] Members { get; } = members;

    /// <summary>channel.created + one member.joined per member: the last version that is not a message event.</summary>
    public long Base => 1 + Members.Length;

    public long Version { get; set; }

    /// <summary>The measured user, mentioned now and then in this channel's messages (null: not a member).</summary>
    public string? Watch { get; init; }
}

/// <summary>
/// Generates the log in SQL with the event store's own <c>es_append</c> (versions, positions and the hash chain exactly
/// as the API writes them), each append in one transaction with the write-side rows the API keeps beside it
/// (<c>ws_users</c>, <c>ws_workspace_members</c>, <c>ws_channels</c>, <c>ws_channel_members</c>, <c>ws_messages</c>,
/// <c>ws_reactions</c>, <c>ws_read_markers</c>). Event data is what <c>EventTypes.Serialize</c> writes for the records
/// in Contracts/Events (camelCase, JsonSerializerDefaults.Web). Helper functions live in the bench database only.
/// </summary>
internal static class LogGenerator
{
    /// <summary>Words of generated messages; drawn skewed (early words common, late ones rare).</summary>
    public static readonly string[] Vocabulary =
    [
        "the", "we", "deploy", "build", "today", "please", "check", "service", "database", "release", "customer", "team",
        "review", "merge", "branch", "latency", "error", "fixed", "issue", "meeting", "tomorrow", "dashboard", "config",
        "server", "incident", "rollback", "ticket", "update", "metrics", "alert", "cluster", "migration", "query", "index",
        "cache", "queue", "worker", "timeout", "retry", "network", "storage", "backup", "restore", "monitoring", "pipeline",
        "staging", "production", "feature", "flag", "experiment", "design", "document", "roadmap", "planning", "sprint",
        "estimate", "priority", "blocker", "standup", "lunch", "coffee", "weekend", "holiday", "vacation", "birthday",
        "invoice", "payment", "billing", "pricing", "contract", "legal", "security", "password", "certificate", "firewall",
        "kubernetes", "container", "image", "registry", "terraform", "ansible", "grafana", "prometheus", "postgres",
        "redis", "rabbitmq", "kafka", "elastic", "search", "ranking", "relevance", "tokenizer", "unicode", "emoji",
        "thread", "reply", "mention", "channel", "workspace", "onboarding", "offboarding", "hiring", "interview",
        "candidate", "feedback", "retrospective", "postmortem", "outage", "degraded", "recovered", "capacity", "throughput",
        "benchmark", "profiling", "allocation", "garbage", "collector", "compiler", "analyzer", "warning", "deprecated",
        "upgrade", "downgrade", "compatibility", "regression", "flaky", "snapshot", "checkpoint", "projection", "rebuild",
        "catchup", "subscription", "partition", "replica", "failover", "quorum", "consensus", "heartbeat", "lease",
        "advisory", "deadlock", "vacuum", "autovacuum", "bloat", "toast", "trigram", "stemming", "headline", "marketing",
        "campaign", "newsletter", "webinar", "conference", "keynote", "workshop", "travel", "hotel", "flight", "visa",
        "quarterly", "forecast", "revenue", "budget", "headcount", "promotion", "salary", "equity", "benefits", "insurance",
        "zeppelin", "quokka", "narwhal", "axolotl", "pangolin", "okapi", "capybara", "wombat", "tapir", "kinkajou",
    ];

    private static readonly string[] Emoji = ["thumbsup", "tada", "eyes", "heart", "rocket", "white_check_mark", "pray", "joy"];

    public const string FunctionsSql = """
        create or replace function readbench_h(x bigint) returns bigint language sql immutable as
            $$ select hashint8(x)::bigint & 2147483647 $$;

        create or replace function readbench_create_channel(
            p_channel text, p_workspace text, p_name text, p_creator text, p_members text[], p_meta jsonb)
        returns bigint language plpgsql as $f$
        declare v_new bigint;
        begin
            -- channel.created, then the creator joins (invitedBy null), then the others (invited by the creator).
            select out_version into v_new from es_append('channel-' || p_channel, 0,
                array(select gen_random_uuid() from generate_series(0, cardinality(p_members))),
                array['channel.created.v1'] || array_fill('member.joined.v1'::text, array[cardinality(p_members)]),
                array[jsonb_build_object('channelId', p_channel, 'workspaceId', p_workspace, 'name', p_name, 'kind', 'public',
                                         'topic', null, 'createdBy', p_creator, 'members', '[]'::jsonb)]
                  || array(select jsonb_build_object('channelId', p_channel, 'userId', m.u,
                                                     'invitedBy', case when m.u = p_creator then null else p_creator end)
                             from unnest(p_members) with ordinality m(u, i) order by m.i),
                array_fill(p_meta || jsonb_build_object('actor', p_creator), array[1 + cardinality(p_members)]),
                now());
            insert into ws_channels (channel_id, workspace_id, name, kind, topic, created_by, version)
            values (p_channel, p_workspace, p_name, 'public', null, p_creator, v_new);
            insert into ws_channel_members (channel_id, user_id) select p_channel, u from unnest(p_members) u;
            return v_new;
        end $f$;

        -- p_count message events after version p_from: posts (some replies, some mentioning a member, the watched
        -- user or @channel), edits of an earlier post by its author, reactions to an earlier post. The kind follows the
        -- version (v % 20): 13 = reaction to v-3, 19 = edit of v-4, otherwise a post; 7 = reply to the post at v-2.
        create or replace function readbench_fill(
            p_channel text, p_from bigint, p_count int, p_base bigint, p_members text[], p_watch text,
            p_vocab text[], p_emoji text[], p_meta jsonb)
        returns bigint language plpgsql as $f$
        declare
            v_n int := cardinality(p_members);
            v_w int := cardinality(p_vocab);
            v_salt bigint := hashtext(p_channel);
            v_new bigint;
        begin
            create temp table if not exists readbench_batch (
                v bigint, kind text, type text, author text, actor text, root bigint, data jsonb);
            truncate readbench_batch;
            with g as (
                select v, (v % 20)::int as r, p_members[1 + readbench_h(v * 31 + v_salt) % v_n] as author
                  from generate_series(p_from + 1, p_from + p_count) v),
            k as (
                select g.*,
                       case when r = 13 and v - 3 > p_base then 'reaction'
                            when r = 19 and v - 4 > p_base then 'edit'
                            else 'post' end as kind,
                       (select string_agg(p_vocab[1 + floor(v_w * power(readbench_h(v * 977 + i + v_salt) / 2147483648.0, 2.5))::int], ' ')
                          from generate_series(1, 4 + (v % 11)::int) i) as words,
                       case when r = 3 then p_members[1 + readbench_h(v * 13 + v_salt) % v_n]
                            when r = 9 and p_watch is not null and (v / 20) % 4 = 0 then p_watch end as mentioned,
                       r = 11 and (v / 20) % 25 = 0 as broadcast,
                       p_members[1 + readbench_h((v - 4) * 31 + v_salt) % v_n] as edit_author
                  from g)
            insert into readbench_batch (v, kind, type, author, actor, root, data)
            select v, kind,
                   case kind when 'post' then 'message.posted.v1' when 'edit' then 'message.edited.v1' else 'reaction.added.v1' end,
                   author,
                   case kind when 'edit' then edit_author else author end,
                   case when kind = 'post' and r = 7 and v - 2 > p_base then v - 2 end,
                   case kind
                     when 'post' then jsonb_build_object(
                         'channelId', p_channel, 'messageId', replace(gen_random_uuid()::text, '-', ''), 'userId', author,
                         'text', words || coalesce(' <@' || mentioned || '>', '') || case when broadcast then ' @channel' else '' end
                                 || case when readbench_h(v * 7 + 3 + v_salt) % 5000 = 0 then ' zanzibar' else '' end,
                         'threadRootSeq', case when r = 7 and v - 2 > p_base then v - 2 end,
                         'mentions', jsonb_build_object(
                             'userIds', case when mentioned is null then '[]'::jsonb else jsonb_build_array(mentioned) end,
                             'channel', broadcast, 'here', false))
                     when 'edit' then jsonb_build_object(
                         'channelId', p_channel, 'seq', v - 4, 'text', 'edited ' || words,
                         'mentions', jsonb_build_object('userIds', '[]'::jsonb, 'channel', false, 'here', false),
                         'by', edit_author)
                     else jsonb_build_object(
                         'channelId', p_channel, 'seq', v - 3, 'emoji', p_emoji[1 + readbench_h(v * 5 + v_salt) % cardinality(p_emoji)],
                         'userId', author)
                   end
              from k;
            select out_version into v_new from es_append('channel-' || p_channel, p_from,
                array(select gen_random_uuid() from readbench_batch order by v),
                array(select type from readbench_batch order by v),
                array(select data from readbench_batch order by v),
                array(select p_meta || jsonb_build_object('actor', actor) from readbench_batch order by v),
                now());
            if v_new <> p_from + p_count then
                raise exception 'es_append answered %, expected %', v_new, p_from + p_count;
            end if;
            insert into ws_messages (channel_id, seq, author_id, thread_root_seq)
            select p_channel, v, author, root from readbench_batch where kind = 'post';
            insert into ws_reactions (channel_id, seq, emoji, user_id)
            select p_channel, (data ->> 'seq')::bigint, data ->> 'emoji', data ->> 'userId' from readbench_batch where kind = 'reaction';
            update ws_channels set version = v_new where channel_id = p_channel;
            return v_new;
        end $f$;
        """;

    public static string Metadata(string correlation) =>
        JsonSerializer.Serialize(new { correlationId = correlation, causationId = (string?)null, at = DateTime.UtcNow });

    public static async Task InstallAsync(NpgsqlDataSource db)
    {
        await using var cmd = db.CreateCommand(FunctionsSql);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>n users: user.registered in their own streams, ws_users rows; answers their ids.</summary>
    public static async Task<string[]> RegisterUsersAsync(NpgsqlDataSource db, int n, string meta)
    {
        await using var cmd = db.CreateCommand("""
            create table readbench_users as
                select i as idx, replace(gen_random_uuid()::text, '-', '') as user_id from generate_series(1, $1) i;
            """.Replace("$1", n.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        await cmd.ExecuteNonQueryAsync();
        await using var tx = await db.OpenConnectionAsync();
        await using (var append = new NpgsqlCommand("""
            select count(*) from readbench_users u, lateral es_append('user-' || u.user_id, 0, array[gen_random_uuid()],
                array['user.registered.v1'],
                array[jsonb_build_object('userId', u.user_id, 'email', 'u' || u.idx || '@readbench.test',
                                         'displayName', 'user ' || u.idx, 'passwordHash', 'readbench: no sign-in')],
                array[$1::jsonb || jsonb_build_object('actor', u.user_id)], now()) a
            """, tx))
        {
            append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = meta });
            append.CommandTimeout = 600;
            await append.ExecuteScalarAsync();
        }
        await using (var rows = new NpgsqlCommand("""
            insert into ws_users (user_id, email, display_name, password_hash)
            select user_id, 'u' || idx || '@readbench.test', 'user ' || idx, 'readbench: no sign-in' from readbench_users
            """, tx))
        {
            await rows.ExecuteNonQueryAsync();
        }
        var ids = new List<string>(n);
        await using var read = new NpgsqlCommand("select user_id from readbench_users order by idx", tx);
        await using var r = await read.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            ids.Add(r.GetString(0));
        }
        return [.. ids];
    }

    /// <summary>All generated users join the workspace (workspace.member_added, role member), in one append.</summary>
    public static async Task AddToWorkspaceAsync(NpgsqlDataSource db, string workspaceId, string addedBy, string meta)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using var cmd = new NpgsqlCommand("""
            with w as (select version from ws_workspaces where workspace_id = $1 for update),
            a as (
                select out_version from w, es_append('workspace-' || $1, w.version,
                    array(select gen_random_uuid() from readbench_users order by idx),
                    array(select 'workspace.member_added.v1' from readbench_users order by idx),
                    array(select jsonb_build_object('workspaceId', $1, 'userId', user_id, 'role', 'member', 'addedBy', $2)
                            from readbench_users order by idx),
                    array(select $3::jsonb || jsonb_build_object('actor', $2) from readbench_users order by idx),
                    now()))
            update ws_workspaces set version = (select out_version from a) where workspace_id = $1
            """, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = workspaceId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = addedBy });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = meta });
        cmd.CommandTimeout = 600;
        await cmd.ExecuteNonQueryAsync();
        await using var rows = new NpgsqlCommand(
            "insert into ws_workspace_members (workspace_id, user_id, role) select $1, user_id, 'member' from readbench_users", conn, tx);
        rows.Parameters.Add(new NpgsqlParameter<string> { TypedValue = workspaceId });
        await rows.ExecuteNonQueryAsync();
        await tx.CommitAsync();
    }

    public static async Task CreateChannelAsync(NpgsqlDataSource db, GeneratedChannel channel, string workspaceId, string meta)
    {
        await using var cmd = db.CreateCommand("select readbench_create_channel($1, $2, $3, $4, $5, $6::jsonb)");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel.Id });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = workspaceId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel.Name });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel.Creator });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = channel.Members });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = meta });
        cmd.CommandTimeout = 600;
        channel.Version = (long)(await cmd.ExecuteScalarAsync())!;
        if (channel.Version != channel.Base)
        {
            throw new InvalidOperationException($"channel {channel.Name}: version {channel.Version}, expected {channel.Base}");
        }
    }

    /// <summary>Appends <paramref name="count"/> message events (posts, replies, edits, reactions) to the channel.</summary>
    public static async Task FillAsync(NpgsqlConnection conn, GeneratedChannel channel, int count, string meta)
    {
        await using var cmd = new NpgsqlCommand("select readbench_fill($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)", conn);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel.Id });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = channel.Version });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = channel.Base });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = channel.Members });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)channel.Watch ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = Vocabulary });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = Emoji });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = meta });
        cmd.CommandTimeout = 600;
        channel.Version = (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// The reader moves their marker (read.marker in their user stream, ws_read_markers) in the given channels to the
    /// last top-level post at least <paramref name="unreadTail"/> versions before the channel's end.
    /// </summary>
    public static async Task<int> MoveReadMarkersAsync(NpgsqlDataSource db, string userId, IEnumerable<GeneratedChannel> channels, int unreadTail, string meta)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var temp = new NpgsqlCommand("""
            create temp table readbench_markers on commit drop as
            select row_number() over (order by c.ch) as i, c.ch as channel_id,
                   (select max(m.seq) from ws_messages m where m.channel_id = c.ch and m.thread_root_seq is null
                       and m.seq <= w.version - $2) as seq
              from unnest($1::text[]) c(ch) join ws_channels w on w.channel_id = c.ch
            """, conn, tx))
        {
            temp.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = channels.Select(c => c.Id).ToArray() });
            temp.Parameters.Add(new NpgsqlParameter<long> { TypedValue = unreadTail });
            await temp.ExecuteNonQueryAsync();
        }
        await using (var clean = new NpgsqlCommand("delete from readbench_markers where seq is null", conn, tx))
        {
            await clean.ExecuteNonQueryAsync();
        }
        await using (var append = new NpgsqlCommand("""
            select out_version from es_append('user-' || $1, (select version from es_streams where stream_id = 'user-' || $1),
                array(select gen_random_uuid() from readbench_markers order by i),
                array(select 'read.marker.v1' from readbench_markers order by i),
                array(select jsonb_build_object('userId', $1, 'channelId', channel_id, 'seq', seq) from readbench_markers order by i),
                array(select $2::jsonb || jsonb_build_object('actor', $1) from readbench_markers order by i),
                now())
            """, conn, tx))
        {
            append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = meta });
            await append.ExecuteScalarAsync();
        }
        await using var cmd = new NpgsqlCommand(
            "insert into ws_read_markers (user_id, channel_id, seq) select $1, channel_id, seq from readbench_markers", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        var moved = await cmd.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        return moved;
    }
}
