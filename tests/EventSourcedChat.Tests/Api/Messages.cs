using System.Net;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

public sealed class Messages(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task A_member_posts_and_gets_the_seq_position_and_time()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);

        var first = await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "  hello  " }, HttpStatusCode.Created);
        var second = await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "again" }, HttpStatusCode.Created);

        // seq 1 is channel.created, seq 2 the creator joining.
        Assert.Equal(3, first.GetProperty("seq").GetInt64());
        Assert.Equal(4, second.GetProperty("seq").GetInt64());
        Assert.Equal(ch, first.GetProperty("channelId").GetString());
        Assert.True(second.GetProperty("position").GetInt64() > first.GetProperty("position").GetInt64());
        Assert.True(first.GetProperty("createdAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task The_same_client_msg_id_again_answers_200_with_the_first_result_and_appends_nothing()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var send = new { text = "once", clientMsgId = "c-123" };

        var first = await ada.Ok("POST", $"/v1/channels/{ch}/messages", send, HttpStatusCode.Created);
        var count = await EventCountAsync();
        var retry = await ada.Ok("POST", $"/v1/channels/{ch}/messages", send, HttpStatusCode.OK);

        Assert.Equal(first.ToString(), retry.ToString());
        Assert.Equal(count, await EventCountAsync());
    }

    [Fact]
    public async Task The_same_client_msg_id_from_another_author_is_another_message()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        await bob.Ok("POST", $"/v1/channels/{ch}/join");

        var adas = await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "ada's", clientMsgId = "shared-1" }, HttpStatusCode.Created);
        var bobs = await bob.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "bob's", clientMsgId = "shared-1" }, HttpStatusCode.Created);

        Assert.NotEqual(adas.GetProperty("seq").GetInt64(), bobs.GetProperty("seq").GetInt64());
        var page = await bob.Ok("GET", $"/v1/channels/{ch}/messages/{bobs.GetProperty("seq").GetInt64()}?minPosition={bobs.GetProperty("position").GetInt64()}");
        Assert.Equal("bob's", page.GetProperty("text").GetString());
        Assert.Equal(bob.UserId, page.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task A_non_member_reusing_someone_s_client_msg_id_is_refused_and_learns_nothing()
    {
        var ada = await RegisterAsync("ada");
        var eve = await RegisterAsync("eve");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, eve));
        await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "ada's", clientMsgId = "guessable" }, HttpStatusCode.Created);
        var count = await EventCountAsync();

        var problem = await eve.Problem("POST", $"/v1/channels/{ch}/messages", new { text = "eve's", clientMsgId = "guessable" },
            HttpStatusCode.Forbidden, "not_in_channel");

        Assert.False(problem.TryGetProperty("seq", out _));
        Assert.Equal(count, await EventCountAsync());
    }

    [Fact]
    public async Task A_retry_after_the_channel_was_archived_is_decided_like_a_new_post()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var send = new { text = "before the archive", clientMsgId = "late-retry" };
        await ada.Ok("POST", $"/v1/channels/{ch}/messages", send, HttpStatusCode.Created);
        await ada.Ok("POST", $"/v1/channels/{ch}/archive");

        await ada.Problem("POST", $"/v1/channels/{ch}/messages", send, HttpStatusCode.Conflict, "channel_archived");
    }

    [Fact]
    public async Task Concurrent_posts_to_one_channel_get_consecutive_seqs()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));

        var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = $"m{i}" }, HttpStatusCode.Created)));

        var seqs = answers.Select(a => a.GetProperty("seq").GetInt64()).Order().ToList();
        Assert.Equal(Enumerable.Range(3, 24).Select(s => (long)s), seqs);
    }

    [Fact]
    public async Task A_reply_names_a_top_level_message_and_mentions_are_stored()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        var root = (await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "root" }, HttpStatusCode.Created)).GetProperty("seq").GetInt64();

        var reply = await ada.Ok("POST", $"/v1/channels/{ch}/messages",
            new { text = $"hi <@{bob.UserId}> and @here", threadRootSeq = root }, HttpStatusCode.Created);
        await ada.Problem("POST", $"/v1/channels/{ch}/messages",
            new { text = "reply to a reply", threadRootSeq = reply.GetProperty("seq").GetInt64() }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("POST", $"/v1/channels/{ch}/messages",
            new { text = "reply to nothing", threadRootSeq = 999 }, HttpStatusCode.BadRequest, "invalid_request");

        await using var cmd = Db.DataSource.CreateCommand(
            "select data->'mentions'->'userIds'->>0, (data->'mentions'->>'here')::bool, (data->>'threadRootSeq')::bigint from es_events where stream_id = $1 and version = $2");
        cmd.Parameters.AddWithValue($"channel-{ch}");
        cmd.Parameters.AddWithValue(reply.GetProperty("seq").GetInt64());
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal(bob.UserId, r.GetString(0));
        Assert.True(r.GetBoolean(1));
        Assert.Equal(root, r.GetInt64(2));
    }

    [Theory]
    [InlineData("", "invalid_request")]
    [InlineData("   ", "invalid_request")]
    [InlineData(null, "invalid_request")]
    public async Task Empty_text_is_rejected(string? text, string code)
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var before = await EventCountAsync();

        await ada.Problem("POST", $"/v1/channels/{ch}/messages", new { text }, HttpStatusCode.BadRequest, code);
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Text_over_40000_characters_is_message_too_long_and_40000_is_accepted()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));

        await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = new string('a', 40_000) }, HttpStatusCode.Created);
        await ada.Problem("POST", $"/v1/channels/{ch}/messages", new { text = new string('a', 40_001) }, HttpStatusCode.BadRequest, "message_too_long");
    }

    [Fact]
    public async Task A_body_over_one_mebibyte_is_payload_too_large()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));

        await ada.Problem("POST", $"/v1/channels/{ch}/messages", $$"""{"text":"{{new string('a', 1_100_000)}}"}""",
            HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [Fact]
    public async Task A_non_member_of_a_private_channel_gets_404_and_of_a_public_one_not_in_channel()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada, bob);
        var secret = await ChannelAsync(ada, ws, "secret", isPrivate: true);
        var open = await ChannelAsync(ada, ws, "open");
        var before = await EventCountAsync();

        await bob.Problem("POST", $"/v1/channels/{secret}/messages", new { text = "hi" }, HttpStatusCode.NotFound, "not_found");
        await bob.Problem("POST", $"/v1/channels/{open}/messages", new { text = "hi" }, HttpStatusCode.Forbidden, "not_in_channel");
        await eve.Problem("POST", $"/v1/channels/{open}/messages", new { text = "hi" }, HttpStatusCode.NotFound, "not_found");
        await eve.Problem("POST", "/v1/channels/does-not-exist/messages", new { text = "hi" }, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(before, await EventCountAsync());
    }
}
