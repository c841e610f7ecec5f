using System.Net;
using EventSourcedChat.EventStore;
using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Audit;

/// <summary>Legal holds: events on the channel stream, and a database guard no delete or update gets past.</summary>
public sealed class LegalHolds(PostgresFixture db) : AuditTest(db)
{
    private async Task<List<string>> TypesAsync(string ch)
    {
        await using var cmd = Db.DataSource.CreateCommand("select type from es_events where stream_id = $1 order by version");
        cmd.Parameters.AddWithValue($"channel-{ch}");
        await using var r = await cmd.ExecuteReaderAsync();
        var types = new List<string>();
        while (await r.ReadAsync())
        {
            types.Add(r.GetString(0));
        }
        return types;
    }

    private async Task<int> ExecuteAsync(string sql, params object[] args)
    {
        await using var cmd = Db.DataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            cmd.Parameters.AddWithValue(arg);
        }
        return await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_workspace_admin_places_and_lifts_a_hold_as_events_on_the_channel_stream()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(bob, ws, "secret", isPrivate: true);
        await PostAsync(bob, ch, "evidence");

        var placed = await ada.Ok("POST", $"/v1/channels/{ch}/legal-hold", new { reason = "case 42" });
        var again = await ada.Ok("POST", $"/v1/channels/{ch}/legal-hold", new { reason = "case 42" });
        Assert.Equal(placed.GetProperty("position").GetInt64(), again.GetProperty("position").GetInt64());
        Assert.Equal("case 42", await ScalarAsync<string>("select reason from es_stream_holds where stream_id = $1", $"channel-{ch}"));
        Assert.Equal("case 42", await ScalarAsync<string>(
            "select data ->> 'reason' from es_events where position = $1", placed.GetProperty("position").GetInt64()));

        await bob.Problem("POST", $"/v1/channels/{ch}/legal-hold", null, HttpStatusCode.Forbidden, "forbidden");
        await eve.Problem("DELETE", $"/v1/channels/{ch}/legal-hold", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("POST", $"/v1/channels/{new string('0', 32)}/legal-hold", null, HttpStatusCode.NotFound, "not_found");
        await ada.Problem("POST", $"/v1/channels/{ch}/legal-hold", new { reason = new string('x', 501) }, HttpStatusCode.BadRequest, "invalid_request");

        await ada.Ok("DELETE", $"/v1/channels/{ch}/legal-hold");
        await ada.Ok("DELETE", $"/v1/channels/{ch}/legal-hold");
        Assert.Equal(["channel.created.v1", "member.joined.v1", "message.posted.v1", "channel.legal_hold_placed.v1", "channel.legal_hold_lifted.v1"],
            await TypesAsync(ch));
        Assert.Equal(0L, await ScalarAsync<long>("select count(*) from es_stream_holds"));
        // The channel's own commands still append at the right version.
        await PostAsync(bob, ch, "after the hold");
    }

    [Fact]
    public async Task While_a_channel_is_held_the_database_refuses_to_delete_or_change_its_events()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var held = await ChannelAsync(ada, ws, "held");
        var free = await ChannelAsync(ada, ws, "free");
        await PostAsync(ada, held, "keep me");
        await PostAsync(ada, free, "retention may take me");
        await ada.Ok("POST", $"/v1/channels/{held}/legal-hold");

        string[] attempts =
        [
            "delete from es_events where stream_id = $1",
            "delete from es_events where stream_id = $1 and version = 3",
            "update es_events set data = '{}' where stream_id = $1 and version = 3",
            "delete from es_streams where stream_id = $1",
        ];
        foreach (var sql in attempts)
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(sql, $"channel-{held}"));
            Assert.Equal("ES423", e.SqlState);
        }
        // One statement over several streams is refused whole.
        var mixed = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync("delete from es_events where stream_id = any($1)", (object)new[] { $"channel-{held}", $"channel-{free}" }));
        Assert.Equal("ES423", mixed.SqlState);
        Assert.Equal(4L, await ScalarAsync<long>("select count(*) from es_events where stream_id = $1", $"channel-{held}"));
        Assert.Equal(3L, await ScalarAsync<long>("select count(*) from es_events where stream_id = $1", $"channel-{free}"));

        Assert.Equal(1, await ExecuteAsync("delete from es_events where stream_id = $1 and version = 3", $"channel-{free}"));
        await ada.Ok("DELETE", $"/v1/channels/{held}/legal-hold");
        Assert.Equal(1, await ExecuteAsync("delete from es_events where stream_id = $1 and version = 3", $"channel-{held}"));
    }

    [Fact]
    public async Task A_hold_waits_for_a_delete_already_under_way_and_then_stops_the_next()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        await PostAsync(ada, ch, "one");
        await PostAsync(ada, ch, "two");
        var stream = $"channel-{ch}";

        await using var conn = await Db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var delete = new NpgsqlCommand("delete from es_events where stream_id = $1 and version = 4", conn, tx))
        {
            delete.Parameters.AddWithValue(stream);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
        var hold = ada.Ok("POST", $"/v1/channels/{ch}/legal-hold");
        // The hold's transaction is seen waiting for the stream's hold key, which the open delete holds shared.
        await Eventually.Until(() => ScalarAsync<long>("""
            select count(*) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'
               and query like '%es_lock_for_hold%'
            """), n => n == 1, what: "the hold to wait for the delete under way");
        Assert.False(hold.IsCompleted);
        await tx.CommitAsync();
        await hold.WaitAsync(TimeSpan.FromSeconds(10));

        var e = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync("delete from es_events where stream_id = $1 and version = 3", stream));
        Assert.Equal("ES423", e.SqlState);
    }

    [Fact]
    public void Hold_events_are_not_pushed_to_the_channels_members()
    {
        var e = new RecordedEvent(1, 1, "channel-" + new string('a', 32), 4, Guid.NewGuid(), "channel.legal_hold_placed.v1",
            """{"channelId":"x","reason":null,"by":"y"}""", "{}", DateTimeOffset.UtcNow, new byte[32], new byte[32]);
        Assert.Null(PushRouting.ToMessage(e.StreamId, e.Version, e.Type, e.Data, e.TxId, e.Position, e.CreatedAt));
    }
}
