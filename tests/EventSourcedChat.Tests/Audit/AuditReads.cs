using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Audit;

/// <summary>GET /v1/audit/channels/{ch}/events, /verify and /as-of through the real host on the real log.</summary>
public sealed class AuditReads(PostgresFixture db) : AuditTest(db)
{
    [Fact]
    public async Task Replay_after_edits_and_deletes_shows_every_version_in_order_with_a_linked_chain()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var seq = await PostAsync(ada, ch, "first draft");
        await ada.Ok("PATCH", $"/v1/channels/{ch}/messages/{seq}", new { text = "second draft" });
        await ada.Ok("PATCH", $"/v1/channels/{ch}/messages/{seq}", new { text = "final words" });
        await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{seq}");

        var events = await ExportAsync(ada, ch);

        Assert.Equal(["channel.created.v1", "member.joined.v1", "message.posted.v1", "message.edited.v1", "message.edited.v1", "message.deleted.v1"],
            events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(["first draft", "second draft", "final words"],
            events.Where(e => e.GetProperty("data").TryGetProperty("text", out _)).Select(e => e.GetProperty("data").GetProperty("text").GetString()));
        Assert.Equal(seq, events[5].GetProperty("data").GetProperty("seq").GetInt64());
        Assert.Equal(ada.UserId, events[5].GetProperty("metadata").GetProperty("actor").GetString());
        Assert.Equal(new string('0', 64), events[0].GetProperty("prevHash").GetString());
        for (var i = 1; i < events.Count; i++)
        {
            Assert.Equal(events[i - 1].GetProperty("hash").GetString(), events[i].GetProperty("prevHash").GetString());
            Assert.True(events[i].GetProperty("position").GetInt64() > events[i - 1].GetProperty("position").GetInt64());
        }
        var stored = await ScalarAsync<Guid>("select event_id from es_events where stream_id = $1 and version = 3", $"channel-{ch}");
        Assert.Equal(stored, events[2].GetProperty("eventId").GetGuid());

        var middle = await ExportAsync(ada, ch, "?fromSeq=3&limit=2");
        Assert.Equal([3L, 4L], middle.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(events[3].GetRawText(), middle[1].GetRawText());
        Assert.Empty(await ExportAsync(ada, ch, "?fromSeq=7"));
    }

    [Fact]
    public async Task Verify_passes_on_an_intact_channel_and_names_the_exact_seq_of_a_row_changed_in_SQL()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        for (var i = 0; i < 10; i++)
        {
            await PostAsync(ada, ch, $"message {i}");
        }

        var intact = await ada.Ok("GET", $"/v1/audit/channels/{ch}/verify");
        Assert.True(intact.GetProperty("ok").GetBoolean());
        Assert.Equal(12, intact.GetProperty("events").GetInt64());
        Assert.False(intact.TryGetProperty("firstBadSeq", out _));

        await using (var tamper = Db.DataSource.CreateCommand(
            "update es_events set data = jsonb_set(data, '{text}', '\"forged\"') where stream_id = $1 and version = 7"))
        {
            tamper.Parameters.AddWithValue($"channel-{ch}");
            Assert.Equal(1, await tamper.ExecuteNonQueryAsync());
        }

        var broken = await ada.Ok("GET", $"/v1/audit/channels/{ch}/verify");
        Assert.False(broken.GetProperty("ok").GetBoolean());
        Assert.Equal(12, broken.GetProperty("events").GetInt64());
        Assert.Equal(7, broken.GetProperty("firstBadSeq").GetInt64());
    }

    [Fact]
    public async Task As_of_at_several_instants_equals_what_the_history_api_returned_at_those_instants()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);
        var snapshots = new List<(DateTimeOffset At, string History, string[] Members)>();

        async Task SnapshotAsync(JsonElement answer)
        {
            var position = answer.GetProperty("position").GetInt64();
            var at = await ScalarAsync<DateTime>("select created_at from es_events where position = $1", position);
            var page = await ada.Ok("GET", $"/v1/channels/{ch}/messages?limit=200&after=0&minPosition={position}");
            var all = new List<JsonElement>();
            foreach (var message in page.GetProperty("messages").EnumerateArray())
            {
                all.Add(message);
                var thread = await ada.Ok("GET", $"/v1/channels/{ch}/messages/{message.GetProperty("seq").GetInt64()}/thread?limit=200");
                all.AddRange(thread.GetProperty("replies").EnumerateArray());
            }
            var members = await ada.Ok("GET", $"/v1/channels/{ch}/members?minPosition={position}");
            snapshots.Add((new DateTimeOffset(at, TimeSpan.Zero),
                JsonSerializer.Serialize(all.OrderBy(m => m.GetProperty("seq").GetInt64())),
                members.EnumerateArray().Select(m => m.GetProperty("userId").GetString()!).Order().ToArray()));
        }

        await SnapshotAsync(await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "hello" }, HttpStatusCode.Created));
        await SnapshotAsync(await bob.Ok("POST", $"/v1/channels/{ch}/join"));
        var root = await PostAsync(bob, ch, "a question");
        var reply = await PostAsync(ada, ch, "an answer", root);
        await SnapshotAsync(await ada.Ok("PUT", $"/v1/channels/{ch}/messages/{root}/reactions/thumbsup"));
        await SnapshotAsync(await bob.Ok("PATCH", $"/v1/channels/{ch}/messages/{root}", new { text = "a better question" }));
        await PostAsync(bob, ch, "another answer", root);
        await SnapshotAsync(await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{reply}"));
        await SnapshotAsync(await bob.Ok("POST", $"/v1/channels/{ch}/leave"));

        foreach (var (at, history, members) in snapshots)
        {
            var asOf = await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at={Uri.EscapeDataString(at.ToString("O"))}");
            Assert.Equal(history, JsonSerializer.Serialize(asOf.GetProperty("messages").EnumerateArray()));
            Assert.Equal(members, asOf.GetProperty("members").EnumerateArray().Select(m => m.GetString()!).Order().ToArray());
            Assert.Equal("general", asOf.GetProperty("name").GetString());
        }
        var before = await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at=2000-01-01T00:00:00Z");
        Assert.Equal(0, before.GetProperty("seq").GetInt64());
        Assert.Empty(before.GetProperty("messages").EnumerateArray());
    }

    [Fact]
    public async Task Only_workspace_admins_and_auditors_may_audit_everyone_else_gets_not_found()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);
        await PostAsync(ada, ch, "hello");
        string[] reads = ["events", "verify", "as-of?at=2030-01-01T00:00:00Z"];
        var before = await EventCountAsync();

        foreach (var read in reads)
        {
            await bob.Problem("GET", $"/v1/audit/channels/{ch}/{read}", null, HttpStatusCode.NotFound, "not_found");
            await eve.Problem("GET", $"/v1/audit/channels/{ch}/{read}", null, HttpStatusCode.NotFound, "not_found");
            await ada.Problem("GET", $"/v1/audit/channels/{new string('0', 32)}/{read}", null, HttpStatusCode.NotFound, "not_found");
            await ada.Problem("GET", $"/v1/audit/channels/not-an-id/{read}", null, HttpStatusCode.NotFound, "not_found");
        }
        Assert.Equal(before, await EventCountAsync());

        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId, role = "auditor" });
        foreach (var read in reads)
        {
            Assert.Equal(HttpStatusCode.OK, (await bob.SendAsync("GET", $"/v1/audit/channels/{ch}/{read}")).StatusCode);
        }
        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId, role = "member" });
        await bob.Problem("GET", $"/v1/audit/channels/{ch}/verify", null, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Every_audit_read_is_recorded_on_the_workspace_stream_with_who_what_and_which_range()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        await PostAsync(ada, ch, "one");
        await PostAsync(ada, ch, "two");

        await ExportAsync(ada, ch, "?fromSeq=2&limit=2");
        await ExportAsync(ada, ch);
        await ada.Ok("GET", $"/v1/audit/channels/{ch}/verify");
        await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at=2030-01-01T00:00:00Z");

        var reads = await AuditReadsAsync(ws);
        Assert.Equal(["events", "events", "verify", "as-of"], reads.Select(r => r.GetProperty("read").GetString()));
        Assert.All(reads, r => Assert.Equal(ada.UserId, r.GetProperty("userId").GetString()));
        Assert.All(reads, r => Assert.Equal(ch, r.GetProperty("channelId").GetString()));
        Assert.Equal([(2L, 3L), (1L, 4L), (1L, 4L), (1L, 4L)],
            reads.Select(r => (r.GetProperty("fromSeq").GetInt64(), r.GetProperty("toSeq").GetInt64())));
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), reads[3].GetProperty("asOf").GetDateTimeOffset());
        // The workspace's own commands still append at the right version after audit reads.
        var bob = await RegisterAsync("bob");
        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
    }

    [Fact]
    public async Task Bad_audit_parameters_are_rejected_before_anything_is_recorded()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);

        await ada.Problem("GET", $"/v1/audit/channels/{ch}/events?fromSeq=-1", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("GET", $"/v1/audit/channels/{ch}/events?limit=0", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("GET", $"/v1/audit/channels/{ch}/events?fromSeq=x", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("GET", $"/v1/audit/channels/{ch}/as-of", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("GET", $"/v1/audit/channels/{ch}/as-of?at=yesterday", null, HttpStatusCode.BadRequest, "invalid_request");
        await ada.Problem("GET", $"/v1/audit/channels/{ch}/as-of?at=2026-01-01T00:00:00", null, HttpStatusCode.BadRequest, "invalid_request");

        Assert.Empty(await AuditReadsAsync(ws));
    }
}
