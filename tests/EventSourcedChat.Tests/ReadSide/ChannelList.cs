using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>
/// The channel list with unread and mention counts, one channel, its members, users and workspaces, read through the
/// real host with <c>?minPosition=</c> (read-your-writes) after each command.
/// </summary>
public sealed class ChannelList(PostgresFixture db) : ApiTest(db)
{
    // ---- the list and visibility ----

    [Fact]
    public async Task The_list_has_the_public_channels_and_the_callers_private_channels_and_dms_only()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);
        var general = await ChannelAsync(ada, ws, "general");
        await ada.Ok("PATCH", $"/v1/channels/{general}", new { topic = "Say hi" });
        var mine = await ChannelAsync(ada, ws, "ada-secret", isPrivate: true);
        var bobs = await ChannelAsync(bob, ws, "bob-public");
        var bobsSecret = await ChannelAsync(bob, ws, "bob-secret", isPrivate: true);
        var ourDm = await DmAsync(ada, ws, bob);
        var theirDm = await DmAsync(bob, ws, carol);
        await bob.Ok("POST", $"/v1/channels/{bobs}/archive");
        var head = await HeadAsync();

        var list = await ListAsync(ada, ws, head);

        Assert.Equal(new[] { general, mine, bobs, ourDm }.Order(StringComparer.Ordinal), list.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(bobsSecret, list.Keys);
        Assert.DoesNotContain(theirDm, list.Keys);

        var g = list[general];
        Assert.Equal("general", g.GetProperty("name").GetString());
        Assert.Equal("Say hi", g.GetProperty("topic").GetString());
        Assert.False(g.GetProperty("isPrivate").GetBoolean());
        Assert.True(g.GetProperty("isMember").GetBoolean());
        Assert.Equal(1, g.GetProperty("memberCount").GetInt32());
        Assert.Equal("public", g.GetProperty("kind").GetString());
        Assert.False(g.GetProperty("archived").GetBoolean());
        Assert.Equal(3, g.GetProperty("lastSeq").GetInt64()); // created, joined, topic set
        Assert.Equal(0, g.GetProperty("unreadCount").GetInt64());
        Assert.Equal(0, g.GetProperty("mentionCount").GetInt64());

        Assert.True(list[mine].GetProperty("isPrivate").GetBoolean());
        Assert.Equal("private", list[mine].GetProperty("kind").GetString());
        Assert.False(list[bobs].GetProperty("isMember").GetBoolean());
        Assert.True(list[bobs].GetProperty("archived").GetBoolean());
        Assert.Equal("dm", list[ourDm].GetProperty("kind").GetString());
        Assert.True(list[ourDm].GetProperty("isPrivate").GetBoolean());
        Assert.Equal(2, list[ourDm].GetProperty("memberCount").GetInt32());
        Assert.Equal(JsonValueKind.Null, list[ourDm].GetProperty("topic").ValueKind);

        // One channel reads as in the list; what the caller may not see is not found.
        Assert.Equal(g.GetRawText(), (await ada.Ok("GET", $"/v1/channels/{general}?minPosition={head}")).GetRawText());
        Assert.Equal(list[bobs].GetRawText(), (await ada.Ok("GET", $"/v1/channels/{bobs}?minPosition={head}")).GetRawText());
        await ada.Problem("GET", $"/v1/channels/{bobsSecret}?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("GET", $"/v1/channels/{theirDm}?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("GET", $"/v1/channels/nothing?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
        Assert.Contains(bobsSecret, (await ListAsync(bob, ws, head)).Keys);
    }

    [Fact]
    public async Task Someone_outside_the_workspace_sees_neither_its_list_nor_its_channels()
    {
        var ada = await RegisterAsync("ada");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada);
        var general = await ChannelAsync(ada, ws, "general");
        var own = await WorkspaceAsync(eve); // an admin elsewhere
        var head = await HeadAsync();

        var missing = await eve.Problem("GET", $"/v1/workspaces/{ws}/channels?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
        var nothing = await eve.Problem("GET", $"/v1/workspaces/nothing/channels?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
        await eve.Problem("GET", $"/v1/channels/{general}?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
        await eve.Problem("GET", $"/v1/channels/{general}/members?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");

        Assert.Equal(nothing.GetProperty("title").GetString(), missing.GetProperty("title").GetString());
        Assert.Equal(nothing.GetProperty("detail").GetString(), missing.GetProperty("detail").GetString());
        Assert.Empty(await ListAsync(eve, own, head));
    }

    // ---- unread counts ----

    [Fact]
    public async Task Unread_rises_with_others_top_level_posts_but_not_with_own_posts_or_thread_replies()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{ch}/join");

        var (root, _) = await PostAsync(bob, ch, "one");
        await PostAsync(bob, ch, "two");
        await PostAsync(ada, ch, "mine");
        await PostAsync(bob, ch, "reply", threadRootSeq: root);
        await PostAsync(ada, ch, "my reply", threadRootSeq: root);
        var (last, position) = await PostAsync(bob, ch, "three");

        var forAda = await ChannelAsync(ada, ch, position);
        Assert.Equal(3, forAda.GetProperty("unreadCount").GetInt64());
        Assert.Equal(0, forAda.GetProperty("mentionCount").GetInt64());
        Assert.Equal(last, forAda.GetProperty("lastSeq").GetInt64());
        Assert.Equal(1, (await ChannelAsync(bob, ch, position)).GetProperty("unreadCount").GetInt64());
        Assert.Equal(3, (await ListAsync(ada, ws, position))[ch].GetProperty("unreadCount").GetInt64());
    }

    [Fact]
    public async Task Mentions_count_user_channel_and_here_mentions_once_per_message_and_reading_resets_both()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);
        var ch = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        await carol.Ok("POST", $"/v1/channels/{ch}/join");

        await PostAsync(bob, ch, $"hi <@{ada.UserId}>");
        await PostAsync(bob, ch, "@channel standup");
        await PostAsync(bob, ch, "@here anyone?");
        await PostAsync(bob, ch, $"<@{ada.UserId}> and @channel, counted once");
        await PostAsync(bob, ch, "no mention");
        await PostAsync(bob, ch, $"for <@{carol.UserId}> only");
        var (root, _) = await PostAsync(bob, ch, "root");
        await PostAsync(bob, ch, $"<@{ada.UserId}> in a thread", threadRootSeq: root);
        await PostAsync(ada, ch, $"@channel from ada, and <@{ada.UserId}> herself");
        var (last, position) = await PostAsync(carol, ch, "@here from carol");

        var forAda = await ChannelAsync(ada, ch, position);
        Assert.Equal(8, forAda.GetProperty("unreadCount").GetInt64());
        // <@ada>, @channel, @here, <@ada> and @channel (once), the reply naming her (issue 20: a mention in a thread
        // counts), carol's @here: 6 (the reply is not unread in the channel).
        Assert.Equal(6, forAda.GetProperty("mentionCount").GetInt64());
        var forBob = await ChannelAsync(bob, ch, position);
        Assert.Equal(2, forBob.GetProperty("unreadCount").GetInt64());
        Assert.Equal(2, forBob.GetProperty("mentionCount").GetInt64());
        var forCarol = await ChannelAsync(carol, ch, position);
        Assert.Equal(8, forCarol.GetProperty("unreadCount").GetInt64());
        Assert.Equal(5, forCarol.GetProperty("mentionCount").GetInt64()); // channel, here, channel, <@carol>, ada's @channel

        var read = (await ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = last })).GetProperty("position").GetInt64();
        forAda = await ChannelAsync(ada, ch, read);
        Assert.Equal(0, forAda.GetProperty("unreadCount").GetInt64());
        Assert.Equal(0, forAda.GetProperty("mentionCount").GetInt64());
        Assert.Equal(5, (await ChannelAsync(carol, ch, read)).GetProperty("mentionCount").GetInt64()); // others unaffected

        var (_, after) = await PostAsync(bob, ch, $"<@{ada.UserId}> again");
        forAda = await ChannelAsync(ada, ch, after);
        Assert.Equal(1, forAda.GetProperty("unreadCount").GetInt64());
        Assert.Equal(1, forAda.GetProperty("mentionCount").GetInt64());
    }

    [Fact]
    public async Task Reading_up_to_a_middle_message_leaves_the_later_ones_unread()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        await PostAsync(bob, ch, "@channel one");
        var (second, _) = await PostAsync(bob, ch, "two");
        await PostAsync(ada, ch, "mine");
        await PostAsync(bob, ch, $"<@{ada.UserId}> three");
        await PostAsync(bob, ch, "four");

        var read = (await ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = second })).GetProperty("position").GetInt64();

        var forAda = await ChannelAsync(ada, ch, read);
        Assert.Equal(2, forAda.GetProperty("unreadCount").GetInt64());
        Assert.Equal(1, forAda.GetProperty("mentionCount").GetInt64());
    }

    [Fact]
    public async Task Two_devices_of_one_user_see_the_same_counts_and_either_resets_them()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        var laptop = await LoginAsync(ada);
        var phone = await LoginAsync(ada);

        var (first, _) = await PostAsync(bob, ch, $"<@{ada.UserId}> one");
        await PostAsync(bob, ch, "@here two");
        var (third, position) = await PostAsync(bob, ch, "three");
        foreach (var device in new[] { laptop, phone })
        {
            var seen = await ChannelAsync(device, ch, position);
            Assert.Equal(3, seen.GetProperty("unreadCount").GetInt64());
            Assert.Equal(2, seen.GetProperty("mentionCount").GetInt64());
        }

        var read = (await laptop.Ok("POST", $"/v1/channels/{ch}/read", new { seq = first })).GetProperty("position").GetInt64();
        foreach (var device in new[] { laptop, phone })
        {
            var seen = await ChannelAsync(device, ch, read);
            Assert.Equal(2, seen.GetProperty("unreadCount").GetInt64());
            Assert.Equal(1, seen.GetProperty("mentionCount").GetInt64());
        }

        read = (await phone.Ok("POST", $"/v1/channels/{ch}/read", new { seq = third })).GetProperty("position").GetInt64();
        // The marker never moves backwards: the laptop reading an older seq changes nothing.
        await laptop.Ok("POST", $"/v1/channels/{ch}/read", new { seq = first });
        foreach (var device in new[] { laptop, phone })
        {
            var seen = (await ListAsync(device, ws, read))[ch];
            Assert.Equal(0, seen.GetProperty("unreadCount").GetInt64());
            Assert.Equal(0, seen.GetProperty("mentionCount").GetInt64());
        }
    }

    [Fact]
    public async Task A_new_member_starts_at_zero_and_a_returning_one_from_when_they_rejoined()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws, "general");
        for (var i = 0; i < 5; i++)
        {
            await PostAsync(ada, ch, $"@channel history {i} <@{bob.UserId}>");
        }

        var joined = (await bob.Ok("POST", $"/v1/channels/{ch}/join")).GetProperty("position").GetInt64();
        var seen = await ChannelAsync(bob, ch, joined);
        Assert.True(seen.GetProperty("isMember").GetBoolean());
        Assert.Equal(0, seen.GetProperty("unreadCount").GetInt64());
        Assert.Equal(0, seen.GetProperty("mentionCount").GetInt64());

        var (_, posted) = await PostAsync(ada, ch, $"welcome <@{bob.UserId}>");
        seen = await ChannelAsync(bob, ch, posted);
        Assert.Equal(1, seen.GetProperty("unreadCount").GetInt64());
        Assert.Equal(1, seen.GetProperty("mentionCount").GetInt64());

        var left = (await bob.Ok("POST", $"/v1/channels/{ch}/leave")).GetProperty("position").GetInt64();
        seen = await ChannelAsync(bob, ch, left); // still visible: a public channel of his workspace
        Assert.False(seen.GetProperty("isMember").GetBoolean());
        Assert.Equal(0, seen.GetProperty("unreadCount").GetInt64());
        Assert.Equal(0, seen.GetProperty("mentionCount").GetInt64());
        Assert.Equal(1, seen.GetProperty("memberCount").GetInt32());

        await PostAsync(ada, ch, $"while away <@{bob.UserId}>");
        var rejoined = (await bob.Ok("POST", $"/v1/channels/{ch}/join")).GetProperty("position").GetInt64();
        seen = await ChannelAsync(bob, ch, rejoined);
        Assert.Equal(0, seen.GetProperty("unreadCount").GetInt64());
        Assert.Equal(0, seen.GetProperty("mentionCount").GetInt64());
        Assert.Equal(2, seen.GetProperty("memberCount").GetInt32());
    }

    [Fact]
    public async Task Deleted_messages_leave_both_counts_and_edits_move_mentions()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        var (mention, _) = await PostAsync(bob, ch, $"<@{ada.UserId}> look");
        var (broadcast, _) = await PostAsync(bob, ch, "@channel look");
        var (plain, _) = await PostAsync(bob, ch, "plain");
        var (own, position) = await PostAsync(ada, ch, "mine");
        var seen = await ChannelAsync(ada, ch, position);
        Assert.Equal(3, seen.GetProperty("unreadCount").GetInt64());
        Assert.Equal(2, seen.GetProperty("mentionCount").GetInt64());

        await bob.Ok("DELETE", $"/v1/channels/{ch}/messages/{mention}");
        await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{own}");
        var edited = (await bob.Ok("PATCH", $"/v1/channels/{ch}/messages/{broadcast}", new { text = "no longer" })).GetProperty("position").GetInt64();
        seen = await ChannelAsync(ada, ch, edited);
        Assert.Equal(2, seen.GetProperty("unreadCount").GetInt64());
        Assert.Equal(0, seen.GetProperty("mentionCount").GetInt64());

        edited = (await bob.Ok("PATCH", $"/v1/channels/{ch}/messages/{plain}", new { text = $"now <@{ada.UserId}>" })).GetProperty("position").GetInt64();
        seen = await ChannelAsync(ada, ch, edited);
        Assert.Equal(2, seen.GetProperty("unreadCount").GetInt64());
        Assert.Equal(1, seen.GetProperty("mentionCount").GetInt64());
    }

    // ---- members, users, workspaces ----

    [Fact]
    public async Task Members_of_a_visible_channel_are_listed_with_their_presence()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var ws = await WorkspaceAsync(ada, bob, carol);
        var general = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{general}/join");
        var secret = await ChannelAsync(ada, ws, "secret", isPrivate: true);
        var position = (await ada.Ok("POST", $"/v1/channels/{secret}/members", new { userId = bob.UserId })).GetProperty("position").GetInt64();

        var members = await carol.Ok("GET", $"/v1/channels/{general}/members?minPosition={position}"); // public: any workspace member
        // Nobody is connected: offline (presence is read from Redis; Presence/PresenceTracking covers active and away).
        Assert.Equal([(ada.UserId, "ada", "offline"), (bob.UserId, "bob", "offline")], members.EnumerateArray()
            .Select(m => (m.GetProperty("userId").GetString(), m.GetProperty("displayName").GetString(), m.GetProperty("presence").GetString())));
        Assert.Equal(2, (await bob.Ok("GET", $"/v1/channels/{secret}/members?minPosition={position}")).GetArrayLength());
        await carol.Problem("GET", $"/v1/channels/{secret}/members?minPosition={position}", null, HttpStatusCode.NotFound, "not_found");
        await carol.Problem("GET", $"/v1/channels/nothing/members?minPosition={position}", null, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_user_is_visible_to_themselves_and_to_people_sharing_a_workspace_only()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        await WorkspaceAsync(ada, bob);
        await WorkspaceAsync(eve);
        var head = await HeadAsync();

        var seen = await ada.Ok("GET", $"/v1/users/{bob.UserId}?minPosition={head}");
        Assert.Equal(bob.UserId, seen.GetProperty("userId").GetString());
        Assert.Equal("bob", seen.GetProperty("displayName").GetString());
        Assert.Equal("offline", seen.GetProperty("presence").GetString());
        Assert.Equal("eve", (await eve.Ok("GET", $"/v1/users/{eve.UserId}?minPosition={head}")).GetProperty("displayName").GetString());
        await ada.Problem("GET", $"/v1/users/{eve.UserId}?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
        await eve.Problem("GET", $"/v1/users/{ada.UserId}?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("GET", $"/v1/users/{Guid.NewGuid():N}?minPosition={head}", null, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_callers_workspaces_are_listed_with_their_role_from_the_read_side()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var acme = (await ada.Ok("POST", "/v1/workspaces", new { name = "Acme" }, HttpStatusCode.Created)).GetProperty("workspaceId").GetString();
        var zeta = (await bob.Ok("POST", "/v1/workspaces", new { name = "Zeta" }, HttpStatusCode.Created)).GetProperty("workspaceId").GetString();
        var position = (await bob.Ok("POST", $"/v1/workspaces/{zeta}/members", new { userId = ada.UserId })).GetProperty("position").GetInt64();

        var list = await ada.Ok("GET", $"/v1/workspaces?minPosition={position}");

        Assert.Equal([(acme, "Acme", "admin"), (zeta, "Zeta", "member")], list.EnumerateArray()
            .Select(w => (w.GetProperty("workspaceId").GetString(), w.GetProperty("name").GetString(), w.GetProperty("role").GetString())));
        Assert.Equal(1, (await bob.Ok("GET", $"/v1/workspaces?minPosition={position}")).GetArrayLength());
        Assert.Equal(0, (await (await RegisterAsync("eve")).Ok("GET", $"/v1/workspaces?minPosition={position}")).GetArrayLength());
    }

    // ---- invariant 9 ----

    [Fact]
    public async Task Posting_into_a_channel_of_200_members_writes_a_constant_number_of_unread_rows()
    {
        var ada = await RegisterAsync("ada");
        var others = new List<TestUser>();
        foreach (var chunk in Enumerable.Range(1, 199).Chunk(20))
        {
            others.AddRange(await Task.WhenAll(chunk.Select(i => RegisterAsync($"member{i}"))));
        }
        var ws = await WorkspaceAsync(ada, [.. others]);
        var ch = await ChannelAsync(ada, ws, "everyone");
        foreach (var chunk in others.Chunk(20))
        {
            await Task.WhenAll(chunk.Select(u => u.Ok("POST", $"/v1/channels/{ch}/join")));
        }
        var (_, warm) = await PostAsync(ada, ch, "first"); // the channel's counter rows exist from here on
        Assert.Equal(200, (await ChannelAsync(ada, ch, warm)).GetProperty("memberCount").GetInt32()); // ada and 199 others
        var rowsBefore = await UnreadRowCountsAsync();
        var xid = await CurrentXidAsync();

        var (seq, position) = await PostAsync(ada, ch, $"<@{others[0].UserId}> <@{others[1].UserId}> @channel hello everyone");

        await ChannelAsync(ada, ch, position); // the unread projection has applied the post
        var touched = await RowsWrittenSinceAsync(xid);
        var rowsAfter = await UnreadRowCountsAsync();
        // One channel counter, one author counter, one message row, one row per <@user> mention: 5, not 200.
        Assert.Equal(5, touched.Values.Sum());
        Assert.Equal(1, touched["channel_counters"]);
        Assert.Equal(1, touched["author_counters"]);
        Assert.Equal(1, touched["channel_messages"]);
        Assert.Equal(2, touched["mentions"]);
        Assert.Equal(0, touched["read_markers"]);
        Assert.Equal(rowsBefore["channel_messages"] + 1, rowsAfter["channel_messages"]);
        Assert.Equal(rowsBefore["mentions"] + 2, rowsAfter["mentions"]);
        Assert.Equal(rowsBefore["read_markers"], rowsAfter["read_markers"]);
        Assert.Equal(rowsBefore["channel_counters"], rowsAfter["channel_counters"]);

        // And yet every member's counts moved.
        foreach (var member in new[] { others[0], others[2], others[^1] })
        {
            var seen = await ChannelAsync(member, ch, position);
            Assert.Equal(2, seen.GetProperty("unreadCount").GetInt64());
            Assert.Equal(1, seen.GetProperty("mentionCount").GetInt64());
            Assert.Equal(seq, seen.GetProperty("lastSeq").GetInt64());
        }
    }

    // ---- helpers ----

    private async Task<Dictionary<string, long>> UnreadRowCountsAsync() => await PerUnreadTableAsync("select count(*) from rm_unread.{0}");

    /// <summary>Rows of each rm_unread table inserted or updated by transactions that started after <paramref name="xid"/>.</summary>
    private async Task<Dictionary<string, long>> RowsWrittenSinceAsync(long xid) =>
        await PerUnreadTableAsync($"select count(*) from rm_unread.{{0}} where xmin::text::bigint > {xid & 0xFFFFFFFF}");

    private async Task<Dictionary<string, long>> PerUnreadTableAsync(string sqlFormat)
    {
        var tables = new List<string>();
        await using (var list = Db.DataSource.CreateCommand("select tablename from pg_tables where schemaname = 'rm_unread' order by tablename"))
        await using (var r = await list.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                tables.Add(r.GetString(0));
            }
        }
        Assert.Equal(["author_counters", "channel_counters", "channel_messages", "mentions", "read_markers", "thread_follows", "thread_replies", "threads"], tables);
        var counts = new Dictionary<string, long>();
        foreach (var table in tables)
        {
            await using var cmd = Db.DataSource.CreateCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture, sqlFormat, table));
            counts[table] = (long)(await cmd.ExecuteScalarAsync())!;
        }
        return counts;
    }

    private async Task<long> CurrentXidAsync()
    {
        await using var cmd = Db.DataSource.CreateCommand("select txid_current()");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<(long Seq, long Position)> PostAsync(TestUser user, string channelId, string text, long? threadRootSeq = null)
    {
        var posted = await user.Ok("POST", $"/v1/channels/{channelId}/messages", new { text, threadRootSeq }, HttpStatusCode.Created);
        return (posted.GetProperty("seq").GetInt64(), posted.GetProperty("position").GetInt64());
    }

    private static async Task<string> DmAsync(TestUser user, string workspaceId, params TestUser[] with) =>
        (await user.Ok("POST", $"/v1/workspaces/{workspaceId}/dms", new { userIds = with.Select(w => w.UserId).ToArray() }))
            .GetProperty("channelId").GetString()!;

    private static Task<JsonElement> ChannelAsync(TestUser user, string channelId, long minPosition) =>
        user.Ok("GET", $"/v1/channels/{channelId}?minPosition={minPosition}");

    private static async Task<Dictionary<string, JsonElement>> ListAsync(TestUser user, string workspaceId, long minPosition) =>
        (await user.Ok("GET", $"/v1/workspaces/{workspaceId}/channels?minPosition={minPosition}")).EnumerateArray()
            .ToDictionary(c => c.GetProperty("channelId").GetString()!);

    /// <summary>The same user signed in again: a second device with its own token.</summary>
    private async Task<TestUser> LoginAsync(TestUser user)
    {
        var client = Host.CreateClient();
        var response = await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        return user with { Client = client };
    }

    /// <summary>The log's head: the position of the last command of a setup whose commands do not all answer one.</summary>
    private async Task<long> HeadAsync()
    {
        await using var cmd = Db.DataSource.CreateCommand("select coalesce(max(position), 0) from es_events");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
