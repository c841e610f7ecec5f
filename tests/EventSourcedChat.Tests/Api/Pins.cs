using System.Net;
using System.Text.Json;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Pinning through the real host: <c>PUT</c>/<c>DELETE /v1/channels/{ch}/messages/{seq}/pin</c>, the stored events, the
/// pinned fields of message views and <c>GET /v1/channels/{ch}/pins</c>. Reads pass the last command's position as
/// <c>?minPosition=</c>, so they see exactly what was written, without sleeping.
/// </summary>
public sealed class Pins(PostgresFixture db) : ApiTest(db)
{
    private long _position;

    /// <summary>A reset racing the previous test's projection batch can deadlock; PostgreSQL aborts one side, and it is tried again.</summary>
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

    /// <summary>Leaves no projection work behind for the next test's reset: waits (bounded) for the projections to catch up.</summary>
    public override async Task DisposeAsync()
    {
        var head = (long)(await ScalarAsync("select coalesce(max(position), 0) from es_events"))!;
        Assert.True(await ReadYourWrites.CaughtUpAsync(Db.DataSource, head, ["projection:history", ChannelAccess.Directory], default),
            $"the projections did not reach position {head}");
        await base.DisposeAsync();
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

    private async Task<(string Type, JsonElement Data, long Position)> LastEventAsync(string ch)
    {
        await using var cmd = Db.DataSource.CreateCommand(
            "select type, data::text, position from es_events where stream_id = $1 order by version desc limit 1");
        cmd.Parameters.AddWithValue($"channel-{ch}");
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        return (r.GetString(0), JsonDocument.Parse(r.GetString(1)).RootElement.Clone(), r.GetInt64(2));
    }

    private async Task<long> PostAsync(TestUser user, string ch, string text = "hello")
    {
        var answer = await user.Ok("POST", $"/v1/channels/{ch}/messages", new { text }, HttpStatusCode.Created);
        _position = answer.GetProperty("position").GetInt64();
        return answer.GetProperty("seq").GetInt64();
    }

    /// <summary>Sends a command that answers <c>{position}</c>, remembers and answers the position.</summary>
    private async Task<long> CommandAsync(TestUser user, string method, string path) =>
        _position = (await user.Ok(method, path)).GetProperty("position").GetInt64();

    private Task<JsonElement> ReadAsync(TestUser user, string path) => user.Ok("GET", $"{path}?minPosition={_position}");

    private static string Pin(string ch, long seq) => $"/v1/channels/{ch}/messages/{seq}/pin";

    private async Task<long[]> PinnedSeqsAsync(TestUser user, string ch) =>
        [.. (await ReadAsync(user, $"/v1/channels/{ch}/pins")).GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64())];

    [Fact]
    public async Task A_member_pins_and_unpins_a_message_and_repeating_either_appends_nothing()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        var seq = await PostAsync(ada, ch, "the plan");

        var pinned = await CommandAsync(bob, "PUT", Pin(ch, seq));
        var stored = await LastEventAsync(ch);
        Assert.Equal("message.pinned.v1", stored.Type);
        Assert.Equal(pinned, stored.Position);
        Assert.Equal(seq, stored.Data.GetProperty("seq").GetInt64());
        Assert.Equal(bob.UserId, stored.Data.GetProperty("by").GetString());
        var count = await EventCountAsync();
        Assert.Equal(pinned, (await bob.Ok("PUT", Pin(ch, seq))).GetProperty("position").GetInt64());
        Assert.Equal(pinned, (await ada.Ok("PUT", Pin(ch, seq))).GetProperty("position").GetInt64());
        Assert.Equal(count, await EventCountAsync());

        var message = await ReadAsync(ada, $"/v1/channels/{ch}/messages/{seq}");
        Assert.True(message.GetProperty("pinned").GetBoolean());
        Assert.Equal(bob.UserId, message.GetProperty("pinnedBy").GetString());
        var pinnedAt = (DateTime)(await ScalarAsync("select created_at from es_events where position = $1", pinned))!;
        Assert.Equal(new DateTimeOffset(pinnedAt, TimeSpan.Zero), message.GetProperty("pinnedAt").GetDateTimeOffset());
        var page = await ReadAsync(ada, $"/v1/channels/{ch}/messages");
        Assert.True(page.GetProperty("messages")[0].GetProperty("pinned").GetBoolean());

        var unpinned = await CommandAsync(ada, "DELETE", Pin(ch, seq));
        Assert.Equal("message.unpinned.v1", (await LastEventAsync(ch)).Type);
        count = await EventCountAsync();
        Assert.Equal(unpinned, (await ada.Ok("DELETE", Pin(ch, seq))).GetProperty("position").GetInt64());
        Assert.Equal(count, await EventCountAsync());
        message = await ReadAsync(ada, $"/v1/channels/{ch}/messages/{seq}");
        Assert.False(message.GetProperty("pinned").GetBoolean());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("pinnedBy").ValueKind);
        Assert.Equal(JsonValueKind.Null, message.GetProperty("pinnedAt").ValueKind);
        Assert.Empty(await PinnedSeqsAsync(ada, ch));
    }

    [Fact]
    public async Task The_pins_list_is_newest_pin_first_and_a_deleted_message_leaves_it()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var first = await PostAsync(ada, ch, "first");
        var second = await PostAsync(ada, ch, "second");
        var reply = (await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "a reply", threadRootSeq = first }, HttpStatusCode.Created))
            .GetProperty("seq").GetInt64();

        await CommandAsync(ada, "PUT", Pin(ch, second));
        await CommandAsync(ada, "PUT", Pin(ch, first));
        await CommandAsync(ada, "PUT", Pin(ch, reply));
        Assert.Equal([reply, first, second], await PinnedSeqsAsync(ada, ch));
        var pins = await ReadAsync(ada, $"/v1/channels/{ch}/pins");
        Assert.Equal("a reply", pins.GetProperty("messages")[0].GetProperty("text").GetString());
        Assert.Equal(first, pins.GetProperty("messages")[0].GetProperty("threadRootSeq").GetInt64());

        await CommandAsync(ada, "DELETE", $"/v1/channels/{ch}/messages/{first}");
        Assert.Equal([reply, second], await PinnedSeqsAsync(ada, ch));
        Assert.Equal(2, (int)(await ScalarAsync("select pin_count from ws_channels where channel_id = $1", ch))!);
        await ada.Problem("PUT", Pin(ch, first), null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("DELETE", Pin(ch, first), null, HttpStatusCode.NotFound, "not_found");

        await CommandAsync(ada, "DELETE", Pin(ch, reply));
        await CommandAsync(ada, "PUT", Pin(ch, reply));
        Assert.Equal([reply, second], await PinnedSeqsAsync(ada, ch));
    }

    [Fact]
    public async Task Pins_answer_the_same_problems_as_reactions_and_the_cap_has_its_own_code()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var dan = await RegisterAsync("dan"); // in no workspace of theirs
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);
        var secret = await ChannelAsync(ada, ws, "secret", isPrivate: true);
        var seq = await PostAsync(ada, ch);
        var hidden = await PostAsync(ada, secret, "hidden");
        await CommandAsync(ada, "PUT", Pin(ch, seq));
        await CommandAsync(ada, "PUT", Pin(secret, hidden));
        var count = await EventCountAsync();

        await bob.Problem("PUT", Pin(ch, seq), null, HttpStatusCode.Forbidden, "not_in_channel");
        await bob.Problem("DELETE", Pin(ch, seq), null, HttpStatusCode.Forbidden, "not_in_channel");
        Assert.Equal([seq], await PinnedSeqsAsync(bob, ch)); // a public channel's pins are readable like its history
        foreach (var outsider in new[] { bob, dan })
        {
            await outsider.Problem("PUT", Pin(secret, hidden), null, HttpStatusCode.NotFound, "not_found");
            await outsider.Problem("GET", $"/v1/channels/{secret}/pins?minPosition={_position}", null, HttpStatusCode.NotFound, "not_found");
        }
        await dan.Problem("GET", $"/v1/channels/{ch}/pins", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("GET", "/v1/channels/not-a-channel/pins", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PUT", Pin(ch, 1), null, HttpStatusCode.NotFound, "not_found"); // channel.created, not a message
        await ada.Problem("PUT", Pin(ch, 999), null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("PUT", $"/v1/channels/{ch}/messages/x/pin", null, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(count, await EventCountAsync());

        // The cap: the write side's count says the channel is full (as many pins as the cap, set in the table the rule reads).
        var other = await PostAsync(ada, ch, "one too many");
        await ScalarAsync("update ws_channels set pin_count = 100 where channel_id = $1", ch);
        await ada.Problem("PUT", Pin(ch, other), null, HttpStatusCode.Conflict, "pin_limit_reached");
        await CommandAsync(ada, "DELETE", Pin(ch, seq)); // unpinning makes room
        await CommandAsync(ada, "PUT", Pin(ch, other));
        Assert.Equal([other], await PinnedSeqsAsync(ada, ch));

        await CommandAsync(ada, "POST", $"/v1/channels/{ch}/archive");
        await ada.Problem("PUT", Pin(ch, seq), null, HttpStatusCode.Conflict, "channel_archived");
        await ada.Problem("DELETE", Pin(ch, other), null, HttpStatusCode.Conflict, "channel_archived");
    }
}
