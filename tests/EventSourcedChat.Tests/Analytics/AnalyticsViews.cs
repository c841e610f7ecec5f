using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Audit;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Analytics;

/// <summary>
/// The analytics views on a seeded log: events appended at chosen instants, applied by the host's real projections,
/// then read as the esc_analyst role.
/// </summary>
public sealed class AnalyticsViews(PostgresFixture db) : AuditTest(db)
{
    private const string Ws = "0000000000000000000000000000aaaa";
    private const string A = "000000000000000000000000000000a1";
    private const string B = "000000000000000000000000000000b1";
    private const string U1 = "000000000000000000000000000000f1";
    private const string U2 = "000000000000000000000000000000f2";
    private const string U3 = "000000000000000000000000000000f3";

    private sealed class SettableTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Two days of chat in channel A, one message in B, one reaction the week after (all UTC).</summary>
    private async Task SeedAsync()
    {
        var time = new SettableTime();
        var store = Db.CreateStore(time);
        var versions = new Dictionary<string, long>();

        async Task At(string when, string channel, object e)
        {
            time.Now = DateTimeOffset.Parse(when + "Z", System.Globalization.CultureInfo.InvariantCulture);
            var stream = $"channel-{channel}";
            var v = versions.GetValueOrDefault(stream);
            await store.AppendAsync(stream, ExpectedVersion.Exactly(v),
                [new EventData(Guid.NewGuid(), EventTypes.StoredTypeOf(e.GetType()), EventTypes.Serialize(e))]);
            versions[stream] = v + 1;
        }

        static MessagePosted Post(string ch, string user, string text, long? root = null) =>
            new(ch, Guid.NewGuid().ToString("N"), user, text, root, Mentions.None);

        await At("2026-03-02T09:00:00", A, new ChannelCreated(A, Ws, "alpha", "public", null, U1, []));  // A1
        await At("2026-03-02T09:00:00", A, new MemberJoined(A, U1, null));                             // A2
        await At("2026-03-02T09:00:00", B, new ChannelCreated(B, Ws, "beta", "public", null, U1, []));  // B1
        await At("2026-03-02T09:00:00", B, new MemberJoined(B, U1, null));                             // B2
        await At("2026-03-02T09:05:00", A, new MemberJoined(A, U2, null));                             // A3
        await At("2026-03-02T09:10:00", A, Post(A, U1, "root one"));                                   // A4
        await At("2026-03-02T09:11:00", A, Post(A, U2, "reply after 60 s", 4));                        // A5
        await At("2026-03-02T09:20:00", A, new ReactionAdded(A, 4, "thumbsup", U1));                   // A6
        await At("2026-03-02T09:21:00", A, new ReactionAdded(A, 4, "thumbsup", U2));                   // A7
        await At("2026-03-02T11:00:00", A, Post(A, U1, "root two"));                                   // A8
        await At("2026-03-02T11:10:00", A, Post(A, U2, "reply after 600 s", 8));                       // A9
        await At("2026-03-03T09:00:00", A, new MemberJoined(A, U3, null));                             // A10
        await At("2026-03-03T09:30:00", A, Post(A, U1, "root three"));                                 // A11
        await At("2026-03-03T09:32:00", A, Post(A, U3, "reply after 120 s", 11));                      // A12
        await At("2026-03-03T10:00:00", A, Post(A, U3, "regretted"));                                  // A13
        await At("2026-03-03T10:05:00", A, new MessageDeleted(A, 13, U3));                             // A14
        await At("2026-03-03T11:05:00", A, Post(A, U3, "a later reply", 8));                           // A15
        await At("2026-03-03T11:30:00", A, new ReactionAdded(A, 8, "tada", U3));                       // A16
        await At("2026-03-03T12:00:00", A, new MemberLeft(A, U2, null));                               // A17
        await At("2026-03-04T08:00:00", B, Post(B, U1, "beta news"));                                  // B3
        await At("2026-03-09T10:00:00", A, new ReactionAdded(A, 11, "heart", U2));                     // A18

        var head = await ScalarAsync<long>("select max(position) from es_events");
        Assert.True(await ReadYourWrites.CaughtUpAsync(Db.DataSource, head, ["projection:history", ChannelAccess.Directory], default));
    }

    /// <summary>Runs a query as the analyst role (the migration user may SET ROLE to it) and answers the rows as text.</summary>
    private async Task<List<string>> AsAnalystAsync(string sql)
    {
        await using var conn = await Db.DataSource.OpenConnectionAsync();
        await using (var role = new NpgsqlCommand("set role esc_analyst", conn))
        {
            await role.ExecuteNonQueryAsync();
        }
        try
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            await using var r = await cmd.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await r.ReadAsync())
            {
                rows.Add(string.Join("|", Enumerable.Range(0, r.FieldCount).Select(i => Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            }
            return rows;
        }
        finally
        {
            await using var reset = new NpgsqlCommand("reset role", conn);
            await reset.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task Messages_per_channel_per_day_count_posts_replies_deletions_and_authors()
    {
        await SeedAsync();
        Assert.Equal(["alpha|2026-03-02|4|2|0|2", "alpha|2026-03-03|4|2|1|2", "beta|2026-03-04|1|0|0|1"], await AsAnalystAsync("""
            select channel_name, to_char(day, 'YYYY-MM-DD'), messages, replies, deleted, authors
              from analytics.messages_per_channel_day order by channel_name, day
            """));
    }

    [Fact]
    public async Task Active_users_are_counted_per_day_and_per_week()
    {
        await SeedAsync();
        Assert.Equal(["2026-03-02|2", "2026-03-03|2", "2026-03-04|1", "2026-03-09|1"], await AsAnalystAsync(
            $"select to_char(day, 'YYYY-MM-DD'), active_users from analytics.active_users_per_day where workspace_id = '{Ws}' order by day"));
        Assert.Equal(["2026-03-02|3", "2026-03-09|1"], await AsAnalystAsync(
            $"select to_char(week, 'YYYY-MM-DD'), active_users from analytics.active_users_per_week where workspace_id = '{Ws}' order by week"));
    }

    [Fact]
    public async Task Thread_reply_times_give_the_median_and_p90_of_the_first_reply()
    {
        await SeedAsync();
        // First replies after 60, 600 and 120 s: median 120; p90 interpolates 120 + 0.8 * (600 - 120) = 504.
        Assert.Equal(["alpha|3|120|504"], await AsAnalystAsync(
            "select channel_name, threads, median_first_reply_seconds, p90_first_reply_seconds from analytics.thread_reply_times"));
    }

    [Fact]
    public async Task Top_reactions_are_ranked_by_use()
    {
        await SeedAsync();
        Assert.Equal(["1|thumbsup|2|1|2", "2|heart|1|1|1", "3|tada|1|1|1"], await AsAnalystAsync(
            "select rank, emoji, reactions, messages, users from analytics.top_reactions order by rank"));
    }

    [Fact]
    public async Task Channel_growth_counts_joins_and_leaves_and_the_members_at_the_end_of_each_day()
    {
        await SeedAsync();
        Assert.Equal(["alpha|2026-03-02|2|0|2", "alpha|2026-03-03|1|1|2", "beta|2026-03-02|1|0|1"], await AsAnalystAsync("""
            select channel_name, to_char(day, 'YYYY-MM-DD'), joined, "left", members from analytics.channel_growth order by channel_name, day
            """));
    }

    [Fact]
    public async Task The_analyst_role_reads_the_views_and_cannot_write_or_read_anything_else()
    {
        await SeedAsync();
        string[] forbidden =
        [
            "insert into es_events (stream_id, version, event_id, type, data, metadata, created_at, prev_hash, hash) values ('x', 1, gen_random_uuid(), 't', '{}', '{}', now(), '', '')",
            "update rm_history.messages set text = 'forged'",
            "delete from es_events",
            "select count(*) from es_events",
            "select count(*) from rm_history.messages",
            "select count(*) from ws_users",
            "create table analytics.mine (x int)",
            "create view analytics.mine as select 1",
            "drop view analytics.top_reactions",
            "select * from es_append('x', -1, array[gen_random_uuid()], array['t'], array['{}'::jsonb], array['{}'::jsonb], now())",
        ];
        foreach (var sql in forbidden)
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => AsAnalystAsync(sql));
            Assert.True(e.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {e.SqlState} {e.MessageText}");
        }
        await Assert.ThrowsAsync<PostgresException>(() => AsAnalystAsync("delete from analytics.top_reactions"));
        Assert.Equal(["9"], await AsAnalystAsync("select sum(messages) from analytics.messages_per_channel_day"));
    }
}
