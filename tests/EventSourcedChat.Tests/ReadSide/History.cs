using System.Net;
using System.Text.Json;
using EventSourcedChat.EventStore;
using EventSourcedChat.Projections.History;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>
/// The history read model through the real host: every read passes the position of the last command as
/// <c>?minPosition=</c>, so it sees exactly what was written, without sleeping.
/// </summary>
public sealed class History(PostgresFixture db) : ApiTest(db)
{
    private long _position;

    /// <summary>
    /// Emptying the database while the projection runner still applies the previous test's last events can deadlock
    /// (TRUNCATE locks every table; a batch holds a read-model table and wants the checkpoint table); PostgreSQL
    /// aborts one side, and the reset is simply tried again.
    /// </summary>
    public override async Task InitializeAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await base.InitializeAsync();
                return;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
            }
        }
    }

    /// <summary>
    /// Leaves no projection work behind for the next test's reset to race with: waits (bounded) until the projections
    /// have applied every event this test appended, including those of tests that never read.
    /// </summary>
    public override async Task DisposeAsync()
    {
        await using var cmd = Db.DataSource.CreateCommand("select coalesce(max(position), 0) from es_events");
        var head = (long)(await cmd.ExecuteScalarAsync())!;
        Assert.True(await ReadYourWrites.CaughtUpAsync(Db.DataSource, head, ["projection:history", ChannelAccess.Directory], default),
            $"the projections did not reach position {head}");
        await base.DisposeAsync();
    }

    private sealed record Posted(long Seq, long Position, DateTimeOffset CreatedAt);

    private async Task<(string Workspace, string Channel)> SetUpAsync(TestUser admin, params TestUser[] members)
    {
        var ws = await WorkspaceAsync(admin, members);
        var ch = await CreateChannelAsync(admin, ws);
        return (ws, ch);
    }

    private async Task<string> CreateChannelAsync(TestUser creator, string ws, string name = "general", bool isPrivate = false)
    {
        var created = await creator.Ok("POST", $"/v1/workspaces/{ws}/channels", new { name, isPrivate }, HttpStatusCode.Created);
        _position = created.GetProperty("position").GetInt64();
        return created.GetProperty("channelId").GetString()!;
    }

    private async Task<Posted> PostAsync(TestUser user, string ch, string text, long? threadRootSeq = null)
    {
        var answer = await user.Ok("POST", $"/v1/channels/{ch}/messages", new { text, threadRootSeq }, HttpStatusCode.Created);
        _position = answer.GetProperty("position").GetInt64();
        return new Posted(answer.GetProperty("seq").GetInt64(), _position, answer.GetProperty("createdAt").GetDateTimeOffset());
    }

    /// <summary>Sends a command that answers <c>{position}</c> and remembers the position.</summary>
    private async Task CommandAsync(TestUser user, string method, string path, object? body = null) =>
        _position = (await user.Ok(method, path, body)).GetProperty("position").GetInt64();

    private string WithPosition(string path) => $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}minPosition={_position}";

    private Task<JsonElement> ReadAsync(TestUser user, string path) => user.Ok("GET", WithPosition(path));

    private static long[] Seqs(JsonElement page, string property = "messages") =>
        page.GetProperty(property).EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()).ToArray();

    private static string Messages(string ch, string query = "") => $"/v1/channels/{ch}/messages{query}";

    private static string Message(string ch, long seq) => $"/v1/channels/{ch}/messages/{seq}";

    private static string Thread(string ch, long seq, string query = "") => $"/v1/channels/{ch}/messages/{seq}/thread{query}";

    [Fact]
    public async Task An_empty_channel_has_no_messages_and_no_more()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);

        foreach (var query in new[] { "", "?before=100", "?after=0", "?limit=1" })
        {
            var page = await ReadAsync(ada, Messages(ch, query));
            Assert.Empty(page.GetProperty("messages").EnumerateArray());
            Assert.False(page.GetProperty("hasMore").GetBoolean());
        }
    }

    [Fact]
    public async Task Pages_go_back_newest_first_and_forward_oldest_first_with_exact_boundaries()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);
        for (var i = 0; i < 5; i++)
        {
            await PostAsync(ada, ch, $"m{i}"); // seqs 3..7 (1 is channel.created, 2 the creator joining)
        }

        async Task Expect(string query, long[] seqs, bool hasMore)
        {
            var page = await ReadAsync(ada, Messages(ch, query));
            Assert.Equal(seqs, Seqs(page));
            Assert.Equal(hasMore, page.GetProperty("hasMore").GetBoolean());
        }

        await Expect("", [7, 6, 5, 4, 3], false);
        await Expect("?limit=5", [7, 6, 5, 4, 3], false);
        await Expect("?limit=4", [7, 6, 5, 4], true);
        await Expect("?limit=2", [7, 6], true);
        await Expect("?before=6&limit=2", [5, 4], true);
        await Expect("?before=5&limit=2", [4, 3], false);
        await Expect("?before=4&limit=2", [3], false);
        await Expect("?before=3", [], false);
        await Expect("?before=0", [], false);
        await Expect("?before=1000&limit=1", [7], true);
        await Expect("?after=0&limit=5", [3, 4, 5, 6, 7], false);
        await Expect("?after=0&limit=4", [3, 4, 5, 6], true);
        await Expect("?after=4&limit=2", [5, 6], true);
        await Expect("?after=5&limit=2", [6, 7], false);
        await Expect("?after=7", [], false);

        var first = (await ReadAsync(ada, Messages(ch, "?after=2&limit=1"))).GetProperty("messages")[0];
        Assert.Equal("m0", first.GetProperty("text").GetString());
        Assert.Equal(ada.UserId, first.GetProperty("userId").GetString());
        Assert.Equal(ch, first.GetProperty("channelId").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("threadRootSeq").ValueKind);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("editedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("lastReplyAt").ValueKind);
        Assert.Equal(0, first.GetProperty("replyCount").GetInt32());
        Assert.False(first.GetProperty("deleted").GetBoolean());
        Assert.Empty(first.GetProperty("reactions").EnumerateArray());
    }

    [Fact]
    public async Task The_default_limit_is_50_and_200_is_the_most()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);
        for (var i = 0; i < 201; i++)
        {
            await PostAsync(ada, ch, $"m{i}");
        }

        var latest = await ReadAsync(ada, Messages(ch));
        Assert.Equal(50, Seqs(latest).Length);
        Assert.True(latest.GetProperty("hasMore").GetBoolean());
        var most = await ReadAsync(ada, Messages(ch, "?limit=200"));
        Assert.Equal(Enumerable.Range(4, 200).Select(s => (long)s).Reverse(), Seqs(most));
        Assert.True(most.GetProperty("hasMore").GetBoolean());
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=201")]
    [InlineData("?limit=-1")]
    [InlineData("?limit=abc")]
    [InlineData("?limit=")]
    [InlineData("?limit=1.5")]
    [InlineData("?limit=99999999999999999999")]
    [InlineData("?limit=1&limit=2")]
    [InlineData("?before=x")]
    [InlineData("?before=-3")]
    [InlineData("?after=1e3")]
    [InlineData("?before=5&after=2")]
    public async Task Bad_paging_parameters_are_invalid_request(string query)
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);

        await ada.Problem("GET", Messages(ch, query), null, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=201")]
    [InlineData("?after=x")]
    public async Task Bad_thread_paging_parameters_are_invalid_request(string query)
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);
        var root = await PostAsync(ada, ch, "root");

        await ada.Problem("GET", Thread(ch, root.Seq, query), null, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task A_deleted_message_stays_in_its_page_as_a_tombstone_without_text_or_reactions()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);
        var a = await PostAsync(ada, ch, "keep");
        var b = await PostAsync(ada, ch, "secret");
        var c = await PostAsync(ada, ch, "keep too");
        await CommandAsync(ada, "PUT", $"{Message(ch, b.Seq)}/reactions/eyes");

        await CommandAsync(ada, "DELETE", Message(ch, b.Seq));

        var page = await ReadAsync(ada, Messages(ch));
        Assert.Equal([c.Seq, b.Seq, a.Seq], Seqs(page));
        var tombstone = page.GetProperty("messages")[1];
        Assert.True(tombstone.GetProperty("deleted").GetBoolean());
        Assert.Equal("", tombstone.GetProperty("text").GetString());
        Assert.Equal(ada.UserId, tombstone.GetProperty("userId").GetString());
        Assert.Empty(tombstone.GetProperty("reactions").EnumerateArray());
        Assert.False(page.GetProperty("messages")[0].GetProperty("deleted").GetBoolean());
        Assert.Equal("keep too", page.GetProperty("messages")[0].GetProperty("text").GetString());

        var one = await ReadAsync(ada, Message(ch, b.Seq));
        Assert.True(one.GetProperty("deleted").GetBoolean());
        Assert.Equal("", one.GetProperty("text").GetString());
    }

    [Fact]
    public async Task An_edit_sets_the_text_and_edited_at()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);
        var posted = await PostAsync(ada, ch, "frist");
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        await CommandAsync(ada, "PATCH", Message(ch, posted.Seq), new { text = "first" });

        var message = await ReadAsync(ada, Message(ch, posted.Seq));
        Assert.Equal("first", message.GetProperty("text").GetString());
        Assert.Equal(posted.CreatedAt, message.GetProperty("createdAt").GetDateTimeOffset());
        var editedAt = message.GetProperty("editedAt").GetDateTimeOffset();
        Assert.True(editedAt >= posted.CreatedAt && editedAt > before);
        Assert.False(message.GetProperty("deleted").GetBoolean());
        var inPage = (await ReadAsync(ada, Messages(ch))).GetProperty("messages")[0];
        Assert.Equal("first", inPage.GetProperty("text").GetString());
        Assert.Equal(editedAt, inPage.GetProperty("editedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Replies_stay_out_of_pages_and_count_on_their_root_after_replies_edits_and_deletes()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var (_, ch) = await SetUpAsync(ada, bob);
        await CommandAsync(bob, "POST", $"/v1/channels/{ch}/join");
        var root = await PostAsync(ada, ch, "root");
        var other = await PostAsync(ada, ch, "other");
        var r1 = await PostAsync(bob, ch, "reply 1", root.Seq);
        var r2 = await PostAsync(ada, ch, "reply 2", root.Seq);
        var r3 = await PostAsync(bob, ch, "reply 3", root.Seq);

        async Task<JsonElement> RootAsync() => await ReadAsync(ada, Message(ch, root.Seq));

        var page = await ReadAsync(ada, Messages(ch));
        Assert.Equal([other.Seq, root.Seq], Seqs(page));
        var listed = page.GetProperty("messages")[1];
        Assert.Equal(3, listed.GetProperty("replyCount").GetInt32());
        Assert.Equal(r3.CreatedAt, listed.GetProperty("lastReplyAt").GetDateTimeOffset());
        Assert.Equal(0, page.GetProperty("messages")[0].GetProperty("replyCount").GetInt32());

        // An edit changes no count.
        await CommandAsync(bob, "PATCH", Message(ch, r1.Seq), new { text = "reply 1, edited" });
        Assert.Equal(3, (await RootAsync()).GetProperty("replyCount").GetInt32());

        // Deleting the latest reply: one fewer, and the last reply time goes back to the latest live one.
        await CommandAsync(bob, "DELETE", Message(ch, r3.Seq));
        var afterDelete = await RootAsync();
        Assert.Equal(2, afterDelete.GetProperty("replyCount").GetInt32());
        Assert.Equal(r2.CreatedAt, afterDelete.GetProperty("lastReplyAt").GetDateTimeOffset());

        // Deleting again is a no-op on the write side and changes nothing here.
        await CommandAsync(bob, "DELETE", Message(ch, r3.Seq));
        Assert.Equal(2, (await RootAsync()).GetProperty("replyCount").GetInt32());

        // An earlier reply: the count drops, the time stays.
        await CommandAsync(bob, "DELETE", Message(ch, r1.Seq));
        var afterSecond = await RootAsync();
        Assert.Equal(1, afterSecond.GetProperty("replyCount").GetInt32());
        Assert.Equal(r2.CreatedAt, afterSecond.GetProperty("lastReplyAt").GetDateTimeOffset());

        // The last live reply: none left.
        await CommandAsync(ada, "DELETE", Message(ch, r2.Seq));
        var none = await RootAsync();
        Assert.Equal(0, none.GetProperty("replyCount").GetInt32());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("lastReplyAt").ValueKind);

        // A new reply counts again; deleted replies stay in the thread as tombstones.
        var r4 = await PostAsync(ada, ch, "reply 4", root.Seq);
        var thread = await ReadAsync(ada, Thread(ch, root.Seq));
        Assert.Equal(1, thread.GetProperty("root").GetProperty("replyCount").GetInt32());
        Assert.Equal(r4.CreatedAt, thread.GetProperty("root").GetProperty("lastReplyAt").GetDateTimeOffset());
        Assert.Equal([r1.Seq, r2.Seq, r3.Seq, r4.Seq], Seqs(thread, "replies"));
        Assert.Equal([true, true, true, false], thread.GetProperty("replies").EnumerateArray().Select(r => r.GetProperty("deleted").GetBoolean()));
    }

    [Fact]
    public async Task Reactions_are_grouped_by_emoji_in_the_order_of_the_first_reaction_with_their_users()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var cy = await RegisterAsync("cy");
        var (_, ch) = await SetUpAsync(ada, bob, cy);
        await CommandAsync(bob, "POST", $"/v1/channels/{ch}/join");
        await CommandAsync(cy, "POST", $"/v1/channels/{ch}/join");
        var msg = await PostAsync(ada, ch, "react to me");
        var party = Uri.EscapeDataString("🎉");
        var path = $"{Message(ch, msg.Seq)}/reactions";

        await CommandAsync(bob, "PUT", $"{path}/thumbsup");
        await CommandAsync(ada, "PUT", $"{path}/{party}");
        await CommandAsync(cy, "PUT", $"{path}/thumbsup");
        await CommandAsync(ada, "PUT", $"{path}/thumbsup");
        await CommandAsync(ada, "PUT", $"{path}/thumbsup"); // idempotent
        await CommandAsync(cy, "PUT", $"{path}/eyes");
        await CommandAsync(cy, "DELETE", $"{path}/eyes");
        await CommandAsync(bob, "PUT", $"{path}/{party}");

        var reactions = (await ReadAsync(ada, Message(ch, msg.Seq))).GetProperty("reactions");
        Assert.Equal(2, reactions.GetArrayLength());
        Assert.Equal("thumbsup", reactions[0].GetProperty("emoji").GetString());
        Assert.Equal(3, reactions[0].GetProperty("count").GetInt32());
        Assert.Equal([bob.UserId, cy.UserId, ada.UserId], reactions[0].GetProperty("userIds").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal("🎉", reactions[1].GetProperty("emoji").GetString());
        Assert.Equal(2, reactions[1].GetProperty("count").GetInt32());
        Assert.Equal([ada.UserId, bob.UserId], reactions[1].GetProperty("userIds").EnumerateArray().Select(u => u.GetString()));

        // The page shows the same groups; when the first thumbsup goes, the party comes first.
        await CommandAsync(bob, "DELETE", $"{path}/thumbsup");
        var inPage = (await ReadAsync(ada, Messages(ch))).GetProperty("messages")[0].GetProperty("reactions");
        Assert.Equal(["🎉", "thumbsup"], inPage.EnumerateArray().Select(g => g.GetProperty("emoji").GetString()));
        Assert.Equal([cy.UserId, ada.UserId], inPage[1].GetProperty("userIds").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal(2, inPage[1].GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task A_thread_pages_its_replies_oldest_first()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);
        var root = await PostAsync(ada, ch, "root");
        var elsewhere = await PostAsync(ada, ch, "another root");
        var replies = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            replies.Add((await PostAsync(ada, ch, $"reply {i}", root.Seq)).Seq);
            await PostAsync(ada, ch, $"noise {i}", elsewhere.Seq);
        }

        var first = await ReadAsync(ada, Thread(ch, root.Seq, "?limit=2"));
        Assert.Equal(root.Seq, first.GetProperty("root").GetProperty("seq").GetInt64());
        Assert.Equal("root", first.GetProperty("root").GetProperty("text").GetString());
        Assert.Equal(5, first.GetProperty("root").GetProperty("replyCount").GetInt32());
        Assert.Equal(replies.Take(2), Seqs(first, "replies"));
        Assert.True(first.GetProperty("hasMore").GetBoolean());
        var reply = first.GetProperty("replies")[0];
        Assert.Equal(root.Seq, reply.GetProperty("threadRootSeq").GetInt64());
        Assert.Equal("reply 0", reply.GetProperty("text").GetString());

        var second = await ReadAsync(ada, Thread(ch, root.Seq, $"?after={replies[1]}&limit=2"));
        Assert.Equal(replies.Skip(2).Take(2), Seqs(second, "replies"));
        Assert.True(second.GetProperty("hasMore").GetBoolean());
        var last = await ReadAsync(ada, Thread(ch, root.Seq, $"?after={replies[3]}&limit=2"));
        Assert.Equal(replies.Skip(4), Seqs(last, "replies"));
        Assert.False(last.GetProperty("hasMore").GetBoolean());
        var exact = await ReadAsync(ada, Thread(ch, root.Seq, "?limit=5"));
        Assert.Equal(replies, Seqs(exact, "replies"));
        Assert.False(exact.GetProperty("hasMore").GetBoolean());

        var empty = await ReadAsync(ada, Thread(ch, (await PostAsync(ada, ch, "lonely")).Seq));
        Assert.Empty(empty.GetProperty("replies").EnumerateArray());
        Assert.False(empty.GetProperty("hasMore").GetBoolean());

        // A reply is not a thread, and neither is a seq that names no message.
        await ada.Problem("GET", WithPosition(Thread(ch, replies[0])), null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("GET", WithPosition(Thread(ch, 999)), null, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task One_message_is_found_by_seq_whether_top_level_or_reply()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);
        var root = await PostAsync(ada, ch, "root");
        var reply = await PostAsync(ada, ch, "a reply", root.Seq);

        var top = await ReadAsync(ada, Message(ch, root.Seq));
        Assert.Equal(root.Seq, top.GetProperty("seq").GetInt64());
        Assert.Equal(root.CreatedAt, top.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal(1, top.GetProperty("replyCount").GetInt32());
        var one = await ReadAsync(ada, Message(ch, reply.Seq));
        Assert.Equal("a reply", one.GetProperty("text").GetString());
        Assert.Equal(root.Seq, one.GetProperty("threadRootSeq").GetInt64());
        Assert.Equal(0, one.GetProperty("replyCount").GetInt32());

        // seq 1 is channel.created: not a message.
        await ada.Problem("GET", WithPosition(Message(ch, 1)), null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("GET", WithPosition(Message(ch, 999)), null, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Channels_the_caller_may_not_see_answer_404_exactly_as_missing_ones()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var (ws, open) = await SetUpAsync(ada, bob);
        var secret = await CreateChannelAsync(ada, ws, "secret", isPrivate: true);
        var inSecret = await PostAsync(ada, secret, "psst");
        var inOpen = await PostAsync(ada, open, "hello all");
        await WorkspaceAsync(eve); // eve has a workspace of her own

        var missing = await bob.Problem("GET", WithPosition(Messages("does-not-exist")), null, HttpStatusCode.NotFound, "not_found");
        foreach (var (user, ch, seq) in new[] { (bob, secret, inSecret.Seq), (eve, secret, inSecret.Seq), (eve, open, inOpen.Seq) })
        {
            foreach (var path in new[] { Messages(ch), Messages(ch, "?after=0"), Message(ch, seq), Thread(ch, seq) })
            {
                var problem = await user.Problem("GET", WithPosition(path), null, HttpStatusCode.NotFound, "not_found");
                Assert.Equal(missing.GetProperty("detail").GetString(), problem.GetProperty("detail").GetString());
            }
        }

        // A workspace member who has not joined a public channel reads it, as in Slack.
        Assert.Equal([inOpen.Seq], Seqs(await ReadAsync(bob, Messages(open))));
        Assert.Equal("psst", (await ReadAsync(ada, Message(secret, inSecret.Seq))).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_read_with_the_position_of_a_post_always_contains_the_post()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);

        for (var i = 0; i < 20; i++)
        {
            var posted = await PostAsync(ada, ch, $"message {i}");
            var page = i % 2 == 0
                ? await ada.Ok("GET", $"{Messages(ch)}?limit=1&minPosition={posted.Position}")
                : await HeaderReadAsync(ada, $"{Messages(ch)}?limit=1", posted.Position);
            Assert.Equal([posted.Seq], Seqs(page));
            Assert.Equal($"message {i}", page.GetProperty("messages")[0].GetProperty("text").GetString());
        }

        static async Task<JsonElement> HeaderReadAsync(TestUser user, string path, long position)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-Min-Position", position.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var response = await user.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            return JsonDocument.Parse(text).RootElement.Clone();
        }
    }

    [Fact]
    public async Task Rebuilding_from_the_log_into_a_fresh_schema_gives_the_same_rows()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var (ws, ch) = await SetUpAsync(ada, bob);
        var other = await CreateChannelAsync(bob, ws, "other");
        await CommandAsync(bob, "POST", $"/v1/channels/{ch}/join");
        var channels = new[] { ch, other };
        for (var i = 0; i < 12; i++)
        {
            var root = await PostAsync(ada, ch, $"root {i}");
            var reply = await PostAsync(bob, ch, $"reply {i}", root.Seq);
            await PostAsync(bob, other, $"over there {i}");
            await CommandAsync(bob, "PUT", $"{Message(ch, root.Seq)}/reactions/thumbsup");
            await CommandAsync(ada, "PUT", $"{Message(ch, root.Seq)}/reactions/eyes");
            switch (i % 4)
            {
                case 0:
                    await CommandAsync(ada, "PATCH", Message(ch, root.Seq), new { text = $"root {i}, edited" });
                    break;
                case 1:
                    await CommandAsync(bob, "DELETE", Message(ch, reply.Seq));
                    break;
                case 2:
                    await CommandAsync(ada, "DELETE", Message(ch, root.Seq));
                    break;
                default:
                    await CommandAsync(bob, "DELETE", $"{Message(ch, root.Seq)}/reactions/thumbsup");
                    break;
            }
        }
        await ReadAsync(ada, Messages(ch)); // the live projection has applied everything up to the last command

        const string check = "rm_history_check";
        await ExecuteAsync($"drop schema if exists {check} cascade");
        await ExecuteAsync("delete from es_checkpoints where name = 'check:history'");
        var projection = new HistoryProjection();
        await Host.Services.GetRequiredService<ProjectionSchemas>().EnsureAsync(projection, check, default);
        var runner = Host.Services.GetRequiredService<ProjectionRunner>();
        var store = Db.CreateStore();
        var cursor = LogCursor.Start;
        var applied = 0;
        while (true)
        {
            var (events, _) = await store.ReadSubscriptionBatchAsync(cursor, 17, default);
            if (events.Count == 0)
            {
                break;
            }
            await runner.ApplyBatchAsync(projection, check, "check:history", cursor, new EventBatch(events, events[^1].Cursor), default);
            cursor = events[^1].Cursor;
            applied += events.Count;
        }
        Assert.Equal(await EventCountAsync(), applied);
        Assert.True(cursor.Position >= _position, "the rebuild saw every event the live projection applied");

        foreach (var table in new[] { "messages", "reactions" })
        {
            var live = await CountAsync($"select count(*) from rm_history.{table} where channel_id = any($1)", channels);
            Assert.True(live > 0, $"{table} has rows");
            Assert.Equal(live, await CountAsync($"select count(*) from {check}.{table} where channel_id = any($1)", channels));
            var differences = await CountAsync($"""
                select count(*) from (
                    (select * from rm_history.{table} where channel_id = any($1) except select * from {check}.{table})
                    union all
                    (select * from {check}.{table} where channel_id = any($1) except select * from rm_history.{table})) d
                """, channels);
            Assert.Equal(0, differences);
        }
    }

    [Fact]
    public async Task Pages_are_range_scans_of_the_indexes()
    {
        var ada = await RegisterAsync("ada");
        var (_, ch) = await SetUpAsync(ada);
        var root = await PostAsync(ada, ch, "root");
        await PostAsync(ada, ch, "reply", root.Seq);
        await ReadAsync(ada, Messages(ch));

        // Planner statistics of a tiny table would favour a sequential scan; forbid it to see which index serves.
        async Task<string> PlanAsync(string sql)
        {
            await using var conn = await Db.DataSource.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            await using (var off = new Npgsql.NpgsqlCommand("set local enable_seqscan = off; set local enable_bitmapscan = off", conn, tx))
            {
                await off.ExecuteNonQueryAsync();
            }
            await using var explain = new Npgsql.NpgsqlCommand($"explain {sql}", conn, tx);
            explain.Parameters.AddWithValue(ch);
            var lines = new List<string>();
            await using var r = await explain.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                lines.Add(r.GetString(0));
            }
            return string.Join('\n', lines);
        }

        var back = await PlanAsync("select * from rm_history.messages where channel_id = $1 and thread_root_seq is null and seq < 100 order by seq desc limit 51");
        Assert.Contains("Index Scan Backward using messages_top_level", back, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", back, StringComparison.Ordinal);
        var forward = await PlanAsync("select * from rm_history.messages where channel_id = $1 and thread_root_seq is null and seq > 0 order by seq limit 51");
        Assert.Contains("Index Scan using messages_top_level", forward, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", forward, StringComparison.Ordinal);
        var thread = await PlanAsync("select * from rm_history.messages where channel_id = $1 and thread_root_seq = 3 and seq > 0 order by seq limit 51");
        Assert.Contains("Index Scan using messages_replies", thread, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", thread, StringComparison.Ordinal);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var cmd = Db.DataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string sql, string[] channels)
    {
        await using var cmd = Db.DataSource.CreateCommand(sql);
        cmd.Parameters.AddWithValue(channels);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
