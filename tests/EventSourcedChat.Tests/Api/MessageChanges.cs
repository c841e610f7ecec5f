using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>Edit, delete, reactions and read markers through the real host, asserting the stored events.</summary>
public sealed class MessageChanges(PostgresFixture db) : ApiTest(db)
{
    private sealed record Stored(string Type, JsonElement Data, long Position);

    private async Task<Stored> EventAtAsync(string stream, long version)
    {
        await using var cmd = Db.DataSource.CreateCommand("select type, data::text, position from es_events where stream_id = $1 and version = $2");
        cmd.Parameters.AddWithValue(stream);
        cmd.Parameters.AddWithValue(version);
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync(), $"no event {stream}@{version}");
        return new Stored(r.GetString(0), JsonDocument.Parse(r.GetString(1)).RootElement.Clone(), r.GetInt64(2));
    }

    private async Task<Stored> LastEventAsync(string stream)
    {
        await using var cmd = Db.DataSource.CreateCommand("select max(version) from es_events where stream_id = $1");
        cmd.Parameters.AddWithValue(stream);
        return await EventAtAsync(stream, (long)(await cmd.ExecuteScalarAsync())!);
    }

    private async Task<object?> ScalarAsync(string sql, params object[] args)
    {
        await using var cmd = Db.DataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            cmd.Parameters.AddWithValue(arg);
        }
        return await cmd.ExecuteScalarAsync();
    }

    /// <summary>The archive endpoint lives in another slice; these tests set the write-side flag the rules read.</summary>
    private Task ArchiveAsync(string channelId) => ScalarAsync("update ws_channels set archived = true where channel_id = $1", channelId);

    private static async Task<long> PostAsync(TestUser user, string ch, string text = "hello") =>
        (await user.Ok("POST", $"/v1/channels/{ch}/messages", new { text }, HttpStatusCode.Created)).GetProperty("seq").GetInt64();

    private static string Msg(string ch, long seq) => $"/v1/channels/{ch}/messages/{seq}";

    [Fact]
    public async Task The_author_edits_and_the_edit_is_stored_with_reparsed_mentions()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        var seq = await PostAsync(ada, ch, "first draft");

        var answer = await ada.Ok("PATCH", Msg(ch, seq), new { text = $"  now with <@{bob.UserId}> and @channel  " });

        var stored = await LastEventAsync($"channel-{ch}");
        Assert.Equal("message.edited.v1", stored.Type);
        Assert.Equal(answer.GetProperty("position").GetInt64(), stored.Position);
        Assert.Equal(seq, stored.Data.GetProperty("seq").GetInt64());
        Assert.Equal($"now with <@{bob.UserId}> and @channel", stored.Data.GetProperty("text").GetString());
        Assert.Equal(bob.UserId, stored.Data.GetProperty("mentions").GetProperty("userIds")[0].GetString());
        Assert.True(stored.Data.GetProperty("mentions").GetProperty("channel").GetBoolean());
        Assert.Equal(ada.UserId, stored.Data.GetProperty("by").GetString());
        // The original stays in the log.
        Assert.Equal("first draft", (await EventAtAsync($"channel-{ch}", seq)).Data.GetProperty("text").GetString());
        Assert.Equal(stored.Data.GetProperty("seq").GetInt64() + 1, await ScalarAsync("select version from ws_channels where channel_id = $1", ch));
    }

    [Fact]
    public async Task Edits_are_rejected_with_stable_codes_and_append_nothing()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);
        var seq = await PostAsync(ada, ch);
        var gone = await PostAsync(ada, ch, "to delete");
        await ada.Ok("DELETE", Msg(ch, gone));
        var before = await EventCountAsync();

        await bob.Problem("PATCH", Msg(ch, seq), new { text = "mine now" }, HttpStatusCode.Forbidden, "forbidden");
        await eve.Problem("PATCH", Msg(ch, seq), new { text = "hi" }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PATCH", Msg(ch, 1), new { text = "not a message" }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PATCH", Msg(ch, 999), new { text = "nothing there" }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PATCH", Msg(ch, gone), new { text = "deleted" }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PATCH", Msg("0123456789abcdef0123456789abcdef", seq), new { text = "x" }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PATCH", Msg(ch, seq), new { text = "   " }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("PATCH", Msg(ch, seq), new { text = (string?)null }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("PATCH", Msg(ch, seq), new { text = "nul \0 inside" }, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("PATCH", Msg(ch, seq), new { text = new string('a', 40_001) }, HttpStatusCode.BadRequest, "message_too_long");
        Assert.Equal(before, await EventCountAsync());

        await ScalarAsync("delete from ws_channel_members where channel_id = $1 and user_id = $2", ch, ada.UserId);
        await ada.Problem("PATCH", Msg(ch, seq), new { text = "left" }, HttpStatusCode.Forbidden, "not_in_channel");
        await ScalarAsync("insert into ws_channel_members (channel_id, user_id) values ($1, $2)", ch, ada.UserId);
        await ArchiveAsync(ch);
        await ada.Problem("PATCH", Msg(ch, seq), new { text = "archived" }, HttpStatusCode.Conflict, "channel_archived");
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task The_author_deletes_a_tombstone_is_stored_and_deleting_again_is_an_idempotent_no_op()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var seq = await PostAsync(ada, ch, "regrettable");

        var first = await ada.Ok("DELETE", Msg(ch, seq));
        var stored = await LastEventAsync($"channel-{ch}");
        Assert.Equal("message.deleted.v1", stored.Type);
        Assert.Equal(first.GetProperty("position").GetInt64(), stored.Position);
        Assert.Equal(seq, stored.Data.GetProperty("seq").GetInt64());
        Assert.Equal(ada.UserId, stored.Data.GetProperty("by").GetString());
        Assert.Equal("regrettable", (await EventAtAsync($"channel-{ch}", seq)).Data.GetProperty("text").GetString());
        Assert.Equal(true, await ScalarAsync("select deleted from ws_messages where channel_id = $1 and seq = $2", ch, seq));

        // Chosen behaviour: a second DELETE is 200 with the channel's head position and appends nothing.
        var count = await EventCountAsync();
        var again = await ada.Ok("DELETE", Msg(ch, seq));
        Assert.Equal(first.GetProperty("position").GetInt64(), again.GetProperty("position").GetInt64());
        Assert.Equal(count, await EventCountAsync());
    }

    [Fact]
    public async Task The_channel_creator_and_a_workspace_admin_delete_others_messages_and_other_members_may_not()
    {
        var admin = await RegisterAsync("admin");
        var creator = await RegisterAsync("creator");
        var carl = await RegisterAsync("carl");
        var dave = await RegisterAsync("dave");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(admin, creator, carl, dave);
        var ch = await ChannelAsync(creator, ws);
        await ScalarAsync("insert into ws_channel_members (channel_id, user_id) values ($1, $2), ($1, $3)", ch, carl.UserId, dave.UserId);
        var one = await PostAsync(carl, ch, "one");
        var two = await PostAsync(carl, ch, "two");
        var three = await PostAsync(carl, ch, "three");
        var before = await EventCountAsync();

        await dave.Problem("DELETE", Msg(ch, one), null, HttpStatusCode.Forbidden, "forbidden");
        await eve.Problem("DELETE", Msg(ch, one), null, HttpStatusCode.NotFound, "not_found");
        await creator.Problem("DELETE", Msg(ch, 1), null, HttpStatusCode.NotFound, "not_found");
        await creator.Problem("DELETE", Msg(ch, 999), null, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(before, await EventCountAsync());

        await creator.Ok("DELETE", Msg(ch, one));
        await admin.Ok("DELETE", Msg(ch, two)); // an admin moderates without being a member
        Assert.Equal(admin.UserId, (await LastEventAsync($"channel-{ch}")).Data.GetProperty("by").GetString());
        Assert.Equal(before + 2, await EventCountAsync());

        await ArchiveAsync(ch);
        await carl.Problem("DELETE", Msg(ch, three), null, HttpStatusCode.Conflict, "channel_archived");
        await carl.Ok("DELETE", Msg(ch, one)); // already deleted: still the idempotent no-op
        Assert.Equal(before + 2, await EventCountAsync());
    }

    [Fact]
    public async Task Reactions_are_added_and_removed_idempotently()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var seq = await PostAsync(ada, ch);
        var thumbs = $"{Msg(ch, seq)}/reactions/thumbsup";
        var unicode = $"{Msg(ch, seq)}/reactions/{Uri.EscapeDataString("👍🏽")}";

        var added = await ada.Ok("PUT", thumbs);
        var stored = await LastEventAsync($"channel-{ch}");
        Assert.Equal("reaction.added.v1", stored.Type);
        Assert.Equal(added.GetProperty("position").GetInt64(), stored.Position);
        Assert.Equal("thumbsup", stored.Data.GetProperty("emoji").GetString());
        Assert.Equal(seq, stored.Data.GetProperty("seq").GetInt64());
        Assert.Equal(ada.UserId, stored.Data.GetProperty("userId").GetString());

        var count = await EventCountAsync();
        Assert.Equal(added.GetProperty("position").GetInt64(), (await ada.Ok("PUT", thumbs)).GetProperty("position").GetInt64());
        Assert.Equal(count, await EventCountAsync());

        await ada.Ok("PUT", unicode);
        Assert.Equal("👍🏽", (await LastEventAsync($"channel-{ch}")).Data.GetProperty("emoji").GetString());
        Assert.Equal(2L, await ScalarAsync("select count(*) from ws_reactions where channel_id = $1 and seq = $2", ch, seq));

        var removed = await ada.Ok("DELETE", thumbs);
        stored = await LastEventAsync($"channel-{ch}");
        Assert.Equal("reaction.removed.v1", stored.Type);
        Assert.Equal(removed.GetProperty("position").GetInt64(), stored.Position);
        Assert.Equal("thumbsup", stored.Data.GetProperty("emoji").GetString());
        count = await EventCountAsync();
        Assert.Equal(removed.GetProperty("position").GetInt64(), (await ada.Ok("DELETE", thumbs)).GetProperty("position").GetInt64());
        Assert.Equal(count, await EventCountAsync());
        Assert.Equal(1L, await ScalarAsync("select count(*) from ws_reactions where channel_id = $1 and seq = $2", ch, seq));
    }

    [Theory]
    [InlineData("two%20words")]
    [InlineData("tab%09")]
    [InlineData("soh%01")] // (%00 never reaches the app: the server refuses paths with NUL)
    [InlineData("bell%07")]
    [InlineData("%E2%80%A8")] // line separator
    [InlineData("slash%2Fname")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 65
    public async Task Bad_emoji_are_invalid_requests(string emoji)
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var seq = await PostAsync(ada, ch);
        var before = await EventCountAsync();

        await ada.Problem("PUT", $"{Msg(ch, seq)}/reactions/{emoji}", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("DELETE", $"{Msg(ch, seq)}/reactions/{emoji}", null, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Reactions_need_a_member_a_live_message_and_a_live_channel()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        var seq = await PostAsync(ada, ch);
        var gone = await PostAsync(ada, ch);
        await ada.Ok("DELETE", Msg(ch, gone));
        var before = await EventCountAsync();

        await bob.Problem("PUT", $"{Msg(ch, seq)}/reactions/tada", null, HttpStatusCode.Forbidden, "not_in_channel");
        await eve.Problem("PUT", $"{Msg(ch, seq)}/reactions/tada", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PUT", $"{Msg(ch, gone)}/reactions/tada", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("DELETE", $"{Msg(ch, gone)}/reactions/tada", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PUT", $"{Msg(ch, 1)}/reactions/tada", null, HttpStatusCode.NotFound, "not_found");
        await ArchiveAsync(ch);
        await ada.Problem("PUT", $"{Msg(ch, seq)}/reactions/tada", null, HttpStatusCode.Conflict, "channel_archived");
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Concurrent_reactions_from_many_members_are_all_stored()
    {
        var ada = await RegisterAsync("ada");
        var others = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => RegisterAsync($"u{i}")));
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, others));
        await ScalarAsync("insert into ws_channel_members (channel_id, user_id) select $1, unnest($2::text[])", ch, others.Select(o => o.UserId).ToArray());
        var seq = await PostAsync(ada, ch);

        await Task.WhenAll(others.Select(o => o.Ok("PUT", $"{Msg(ch, seq)}/reactions/eyes")));

        Assert.Equal(8L, await ScalarAsync("select count(*) from ws_reactions where channel_id = $1 and seq = $2", ch, seq));
        Assert.Equal(8L, await ScalarAsync("select count(*) from es_events where stream_id = $1 and type = 'reaction.added.v1'", $"channel-{ch}"));
    }

    [Fact]
    public async Task The_read_marker_moves_forward_on_the_user_stream_and_never_backwards()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        await PostAsync(ada, ch);
        var last = await PostAsync(ada, ch);

        var moved = await ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = 3 });
        var stored = await LastEventAsync($"user-{ada.UserId}");
        Assert.Equal("read.marker.v1", stored.Type);
        Assert.Equal(moved.GetProperty("position").GetInt64(), stored.Position);
        Assert.Equal(ch, stored.Data.GetProperty("channelId").GetString());
        Assert.Equal(3, stored.Data.GetProperty("seq").GetInt64());
        Assert.Equal(ada.UserId, stored.Data.GetProperty("userId").GetString());
        Assert.Equal(3L, await ScalarAsync("select seq from ws_read_markers where user_id = $1 and channel_id = $2", ada.UserId, ch));

        var count = await EventCountAsync();
        Assert.Equal(stored.Position, (await ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = 3 })).GetProperty("position").GetInt64());
        Assert.Equal(stored.Position, (await ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = 2 })).GetProperty("position").GetInt64());
        Assert.Equal(count, await EventCountAsync());
        Assert.Equal(3L, await ScalarAsync("select seq from ws_read_markers where user_id = $1 and channel_id = $2", ada.UserId, ch));

        await ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = last });
        Assert.Equal(last, await ScalarAsync("select seq from ws_read_markers where user_id = $1 and channel_id = $2", ada.UserId, ch));
    }

    [Fact]
    public async Task Read_markers_are_rejected_with_stable_codes_and_append_nothing()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada, bob);
        var open = await ChannelAsync(ada, ws);
        var secret = await ChannelAsync(ada, ws, "secret", isPrivate: true);
        var seq = await PostAsync(ada, open); // the channel's version is now 3
        var before = await EventCountAsync();

        foreach (var bad in new object[] { new { seq = 0 }, new { seq = -1 }, new { seq = seq + 1 }, new { seq = long.MaxValue }, new { seq = (long?)null }, new { } })
        {
            await ada.Problem("POST", $"/v1/channels/{open}/read", bad, HttpStatusCode.BadRequest, "invalid_request");
        }
        await bob.Problem("POST", $"/v1/channels/{open}/read", new { seq }, HttpStatusCode.Forbidden, "not_in_channel");
        await bob.Problem("POST", $"/v1/channels/{secret}/read", new { seq = 1 }, HttpStatusCode.NotFound, "not_found");
        await eve.Problem("POST", $"/v1/channels/{open}/read", new { seq }, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("POST", "/v1/channels/nope/read", new { seq }, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Concurrent_read_markers_of_one_user_on_many_channels_are_serialized_on_the_user_stream()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var channels = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            channels.Add(await ChannelAsync(ada, ws, $"c{i}"));
        }

        await Task.WhenAll(channels.Select(ch => ada.Ok("POST", $"/v1/channels/{ch}/read", new { seq = 2 })));

        Assert.Equal(6L, await ScalarAsync("select count(*) from ws_read_markers where user_id = $1 and seq = 2", ada.UserId));
        Assert.Equal(7L, await ScalarAsync("select version from es_streams where stream_id = $1", $"user-{ada.UserId}"));
    }

    [Fact]
    public async Task Concurrent_edits_reactions_and_a_delete_on_one_channel_retry_on_conflict_and_keep_state_consistent()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var seq = await PostAsync(ada, ch);
        var other = await PostAsync(ada, ch);

        await Task.WhenAll(
            Enumerable.Range(0, 10).Select(i => ada.Ok("PATCH", Msg(ch, seq), new { text = $"edit {i}" }))
                .Concat(Enumerable.Range(0, 10).Select(i => ada.Ok("PUT", $"{Msg(ch, seq)}/reactions/e{i}")))
                .Append(ada.Ok("DELETE", Msg(ch, other))));

        // 2 channel events + 2 posts + 21 changes, every one at its own version, and the write side at the head.
        Assert.Equal(25L, await ScalarAsync("select version from es_streams where stream_id = $1", $"channel-{ch}"));
        Assert.Equal(25L, await ScalarAsync("select version from ws_channels where channel_id = $1", ch));
        Assert.Equal(10L, await ScalarAsync("select count(*) from ws_reactions where channel_id = $1", ch));
        Assert.Equal(true, await ScalarAsync("select deleted from ws_messages where channel_id = $1 and seq = $2", ch, other));
    }
}
