using System.Text.Json;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Notifications;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.WriteSide;

/// <summary>
/// What a post reads of its channel's members does not grow with the channel: the decision's read of its posters and the
/// notification worker's choice of recipients look each person up by the whole key, in the generic plan that a prepared
/// statement keeps (what the host runs once a statement is prepared), instead of reading the channel's member list.
/// Each test seeds a channel of <see cref="Members"/> in a transaction it rolls back, and counts the rows each table gave
/// to <c>explain analyze</c>.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MemberLookups(PostgresFixture db)
{
    private const int Members = 300;

    [Fact]
    public async Task Deciding_a_group_of_posts_looks_up_each_poster_instead_of_reading_the_channels_members()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var (channel, users) = await SeedAsync(conn, tx);

        var read = await RowsReadAsync(conn, tx, ChannelWriteSide.PeopleSql, "text, text[]", $"'{channel}', array['{users[0]}', '{users[1]}', 'nobody']");

        Assert.InRange(read.GetValueOrDefault("ws_channel_members"), 0, 3);
        await using var cmd = new NpgsqlCommand(ChannelWriteSide.PeopleSql, conn, tx) { Parameters = { new() { Value = channel }, new() { Value = new[] { users[0], "nobody" } } } };
        await using var r = await cmd.ExecuteReaderAsync();
        var people = new Dictionary<string, (bool Member, string? Role)>();
        while (await r.ReadAsync())
        {
            people[r.GetString(0)] = (r.GetBoolean(1), r.IsDBNull(2) ? null : r.GetString(2));
        }
        Assert.Equal((true, "member"), people[users[0]]);
        Assert.Equal((false, null), people["nobody"]);
    }

    [Fact]
    public async Task Choosing_who_to_notify_of_a_post_looks_up_the_candidates_instead_of_reading_the_channels_members()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var (channel, users) = await SeedAsync(conn, tx);

        // A plain post mentioning one member and someone who is not in the channel.
        var read = await RowsReadAsync(conn, tx, NotificationLog.RecipientsSql, RecipientTypes,
            $"'{channel}', 7, '{users[0]}', 'hi', now(), array['{users[1]}', 'nobody'], false, '{{}}', 0, 60");
        Assert.InRange(read.GetValueOrDefault("nt_members"), 0, 2);
        Assert.Equal([$"{users[1]} mention"], await ItemsAsync(conn, tx, channel, 7));

        // @channel is the one post (with a DM's) that reads them all (which also shows that the count sees the table):
        // each member but the author once.
        var readAll = await RowsReadAsync(conn, tx, NotificationLog.RecipientsSql, RecipientTypes,
            $"'{channel}', 8, '{users[0]}', 'all', now(), array['{users[1]}'], true, '{{}}', 0, 60");
        Assert.True(readAll.GetValueOrDefault("nt_members") >= Members, $"{readAll.GetValueOrDefault("nt_members")} rows of nt_members");
        var items = await ItemsAsync(conn, tx, channel, 8);
        Assert.Equal(Members - 1, items.Count);
        Assert.Contains($"{users[1]} mention", items);
        Assert.DoesNotContain(items, i => i.StartsWith(users[0], StringComparison.Ordinal));
    }

    private const string RecipientTypes = "text, bigint, text, text, timestamptz, text[], boolean, text[], bigint, double precision";

    /// <summary>A workspace with one channel of <see cref="Members"/> members, in the write side's and the notification worker's tables.</summary>
    private static async Task<(string Channel, string[] Users)> SeedAsync(NpgsqlConnection conn, NpgsqlTransaction tx)
    {
        var workspace = Guid.NewGuid().ToString("N");
        var channel = Guid.NewGuid().ToString("N");
        var users = Enumerable.Range(0, Members).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        string[] statements =
        [
            "insert into ws_channels (channel_id, workspace_id, name, kind, created_by, version) values ($1, $2, 'wide', 'public', $3[1], 1)",
            "insert into ws_workspace_members (workspace_id, user_id, role) select $2, u, 'member' from unnest($3::text[]) u",
            "insert into ws_channel_members (channel_id, user_id) select $1, u from unnest($3::text[]) u",
            "insert into nt_channels (channel_id, workspace_id, name, kind) values ($1, $2, 'wide', 'public')",
            "insert into nt_users (user_id, email, display_name) select u, u || '@example.test', u from unnest($3::text[]) u",
            "insert into nt_members (channel_id, user_id) select $1, u from unnest($3::text[]) u",
        ];
        await using var seed = new NpgsqlBatch(conn, tx);
        foreach (var statement in statements)
        {
            seed.BatchCommands.Add(new NpgsqlBatchCommand(statement)
            {
                Parameters = { new() { Value = channel }, new() { Value = workspace }, new() { Value = users } },
            });
        }
        await seed.ExecuteNonQueryAsync();
        return (channel, users);
    }

    /// <summary>Runs <paramref name="sql"/> once in its generic plan; the rows each table gave, over all loops.</summary>
    private static async Task<Dictionary<string, long>> RowsReadAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, string types, string arguments)
    {
        var name = "plan_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(conn, tx, "set local plan_cache_mode = force_generic_plan");
        await ExecuteAsync(conn, tx, $"prepare {name} ({types}) as {sql}");
        await using var explain = new NpgsqlCommand($"explain (analyze, format json) execute {name} ({arguments})", conn, tx);
        var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!);
        await ExecuteAsync(conn, tx, $"deallocate {name}");
        var rows = new Dictionary<string, long>();
        Count(plan.RootElement[0].GetProperty("Plan"), rows);
        return rows;
    }

    private static void Count(JsonElement node, Dictionary<string, long> rows)
    {
        if (node.TryGetProperty("Relation Name", out var table))
        {
            var name = table.GetString()!;
            rows[name] = rows.GetValueOrDefault(name) + (long)Math.Ceiling(node.GetProperty("Actual Rows").GetDouble() * node.GetProperty("Actual Loops").GetDouble());
        }
        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                Count(child, rows);
            }
        }
    }

    private static async Task<List<string>> ItemsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string channel, long seq)
    {
        await using var cmd = new NpgsqlCommand("select user_id || ' ' || reason from nt_items where channel_id = $1 and seq = $2", conn, tx)
        {
            Parameters = { new() { Value = channel }, new() { Value = seq } },
        };
        var items = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            items.Add(r.GetString(0));
        }
        return items;
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync();
    }
}
