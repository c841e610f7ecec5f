using System.Net;
using System.Text.Json;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>
/// A second node (an extra host whose configuration makes ada an instance admin) is asked over HTTP to rebuild a
/// projection whose live runner runs on the shared host, while posts, replies, edits, reactions, read markers and
/// joins keep arriving through the shared host. Once the rebuild has switched over and the load has gone on for a
/// while after it, both hosts serve every acknowledged post exactly once; once the second node is gone, the shared
/// host still does (its own runner never stopped), and the tables equal a build from scratch.
/// </summary>
public sealed class RebuildingFromAnotherNode(PostgresFixture db, ITestOutputHelper output) : ApiTest(db)
{
    [Theory]
    [InlineData("directory")]
    [InlineData("unread")]
    [InlineData("history")]
    [InlineData("search")]
    public async Task A_rebuild_asked_of_another_node_under_load_switches_over_with_nothing_missed_or_doubled_on_any_host(string projection)
    {
        await using var load = await ChatLoad.CreateAsync(Db.DataSource, name => RegisterAsync(name));
        await using var adminHost = new ChatHost(Db, new() { ["Admins"] = load.Ada.UserId });
        var admin = load.Ada.On(adminHost);
        load.Start();
        await load.UntilEveryLaneActedAsync(30);

        // The live runner falls behind the rebuild, deterministically: the projection's switch lock, held here, keeps
        // its next batch waiting before it writes anything (a transaction that wrote would hide every later event from
        // the rebuild's subscription read), the rebuild reads the whole log past that batch, and its switch-over queues
        // for the lock too. Then both go on: the switch-over finds the live projection behind the rebuilt tables.
        var switchKey = ProjectionSchemas.SwitchKey(RebuildComparison.Named(projection));
        int atRequest;
        await using (var hold = await Db.DataSource.OpenConnectionAsync())
        await using (var holding = await hold.BeginTransactionAsync())
        {
            await using (var take = new NpgsqlCommand("select pg_advisory_xact_lock($1)", hold, holding))
            {
                take.Parameters.AddWithValue(switchKey);
                await take.ExecuteNonQueryAsync();
            }
            await Eventually.Until(() => SwitchLockAsync(switchKey, "ShareLock", granted: false), waiting => waiting,
                TimeSpan.FromSeconds(30), "a live batch to wait for the switch lock");
            var blockedAt = load.Actions;
            await load.UntilEveryLaneActedAsync(blockedAt + 5);
            await admin.Ok("POST", $"/v1/admin/projections/{projection}/rebuild", null, HttpStatusCode.Accepted);
            atRequest = load.Actions;
            await Eventually.Until(() => SwitchLockAsync(switchKey, "ExclusiveLock", granted: false), waiting => waiting,
                TimeSpan.FromSeconds(30), "the rebuild's switch-over to wait for the switch lock");
            await holding.RollbackAsync();
        }
        var rebuild = await Eventually.Until(
            async () => (await admin.Ok("GET", "/v1/admin/projections")).EnumerateArray()
                .Single(p => p.GetProperty("name").GetString() == projection).GetProperty("rebuild"),
            r => r.ValueKind == JsonValueKind.Object && r.GetProperty("state").GetString() != "rebuilding",
            TimeSpan.FromSeconds(60), $"the {projection} rebuild to finish");
        Assert.Equal("switched", rebuild.GetProperty("state").GetString());
        var atSwitch = load.Actions;
        // The live runner goes on applying new events to the swapped-in tables.
        await load.UntilEveryLaneActedAsync(atSwitch + 20);
        await load.StopAsync();
        output.WriteLine($"{projection}: {atRequest} actions per lane before the rebuild request, {atSwitch - atRequest} while it ran, "
                         + $"{load.Actions - atSwitch} after the switch-over; {rebuild.GetProperty("eventsApplied")} events rebuilt; "
                         + $"{load.Lanes.Sum(l => l.Messages.Count)} posts");

        foreach (var host in new[] { Host, adminHost })
        {
            await load.AssertServedOnceAsync(projection, host);
        }
        // The second node leaves: the shared host's live runner must still be running (a rebuild elsewhere never
        // stops it for good; until now the second node's standby runner could have been covering for it).
        await adminHost.DisposeAsync();
        await load.PostLastWordAsync();
        await load.AssertServedOnceAsync(projection, Host);
        await load.AssertEqualsBuildFromScratchAsync(projection);
        await using var leftovers = Db.DataSource.CreateCommand("select count(*) from pg_namespace where nspname = any($1)");
        leftovers.Parameters.AddWithValue(new[] { $"rm_{projection}_rebuild", $"rm_{projection}_old" });
        Assert.Equal(0L, await leftovers.ExecuteScalarAsync());
    }

    /// <summary>Whether some session holds (or waits for) the projection's switch lock in that mode.</summary>
    private async Task<bool> SwitchLockAsync(long key, string mode, bool granted)
    {
        await using var cmd = Db.DataSource.CreateCommand("""
            select exists (select 1 from pg_locks
                            where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
                              and classid::bigint = $1 and objid::bigint = $2 and objsubid = 1 and mode = $3 and granted = $4)
            """);
        cmd.Parameters.AddWithValue((long)(uint)(key >> 32));
        cmd.Parameters.AddWithValue((long)(uint)key);
        cmd.Parameters.AddWithValue(mode);
        cmd.Parameters.AddWithValue(granted);
        return (bool)(await cmd.ExecuteScalarAsync())!;
    }
}
