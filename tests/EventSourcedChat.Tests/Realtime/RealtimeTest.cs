using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>Realtime tests: hub clients on the shared host (all roles) or on extra gateway hosts, real PostgreSQL and RabbitMQ.</summary>
public abstract class RealtimeTest(PostgresFixture db) : ApiTest(db)
{
    private readonly List<IAsyncDisposable> _owned = [];

    public override async Task DisposeAsync()
    {
        // Every owned thing is disposed (processes killed) even when an earlier one fails to.
        var errors = new List<Exception>();
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                await _owned[i].DisposeAsync();
            }
#pragma warning disable CA1031 // collected and rethrown below
            catch (Exception e)
#pragma warning restore CA1031
            {
                errors.Add(e);
            }
        }
        await base.DisposeAsync();
        if (errors.Count > 0)
        {
            throw new AggregateException("disposing the test's hosts, clients or processes failed", errors);
        }
    }

    /// <summary>A hub connection of <paramref name="user"/> to <paramref name="host"/> (the shared host unless told), closed after the test.</summary>
    protected async Task<HubClient> ConnectAsync(TestUser user, ChatHost? host = null)
    {
        var client = await HubClient.ConnectAsync(host ?? Host, user);
        _owned.Add(client);
        return client;
    }

    /// <summary>Disposed after the test (in reverse order of ownership).</summary>
    protected T Own<T>(T disposable) where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>An extra host on the test database, disposed after the test.</summary>
    protected ChatHost ExtraHost(string roles, Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? []) { ["Roles"] = roles };
        var host = new ChatHost(Db, all);
        _ = host.Server;
        _owned.Add(host);
        return host;
    }

    /// <summary>Waits until the directory read model lists exactly these members' membership of the channel.</summary>
    protected async Task DirectoryAsync(
        string channelId, IEnumerable<TestUser> members, IEnumerable<TestUser>? nonMembers = null, Npgsql.NpgsqlDataSource? database = null)
    {
        var inside = members.Select(m => m.UserId).ToArray();
        var outside = (nonMembers ?? []).Select(m => m.UserId).ToArray();
        await Eventually.Until(async () =>
        {
            await using var cmd = (database ?? Db.DataSource).CreateCommand("""
                select count(*) filter (where user_id = any($2)) = cardinality($2)
                   and count(*) filter (where user_id = any($3)) = 0
                  from rm_directory.channel_members where channel_id = $1
                """);
            cmd.Parameters.AddWithValue(channelId);
            cmd.Parameters.AddWithValue(inside);
            cmd.Parameters.AddWithValue(outside);
            return (bool)(await cmd.ExecuteScalarAsync())!;
        }, ok => ok, TimeSpan.FromSeconds(10), "the directory to show the channel's members");
    }

    /// <summary>Waits until the push worker has sent (and the broker confirmed) everything up to <paramref name="position"/>.</summary>
    protected async Task PushedAsync(long position) =>
        await Eventually.Until(async () =>
        {
            await using var cmd = Db.DataSource.CreateCommand("select coalesce(max(position), 0) from es_checkpoints where name = 'push'");
            return (long)(await cmd.ExecuteScalarAsync())!;
        }, at => at >= position, TimeSpan.FromSeconds(10), $"the push worker to pass position {position}");

    protected static async Task<(long Seq, long Position)> PostAsync(TestUser user, string channelId, string text)
    {
        var body = await user.Ok("POST", $"/v1/channels/{channelId}/messages", new { text }, HttpStatusCode.Created);
        return (body.GetProperty("seq").GetInt64(), body.GetProperty("position").GetInt64());
    }

    protected static async Task JoinAsync(TestUser user, string channelId) => await user.Ok("POST", $"/v1/channels/{channelId}/join");

    protected static IReadOnlyList<JsonElement> Posted(IEnumerable<JsonElement> events, string channelId) =>
        events.Where(e => e.GetProperty("type").GetString() == "message.posted" && e.GetProperty("channelId").GetString() == channelId).ToList();

    protected static string TextOf(JsonElement e) => e.GetProperty("data").GetProperty("text").GetString()!;

    protected static long PositionOf(JsonElement e) => e.GetProperty("position").GetInt64();

    protected static long SeqOf(JsonElement e) => e.GetProperty("seq").GetInt64();

    /// <summary>Channel events (those with a position) come in strictly increasing cursor order, each once.</summary>
    protected static void AssertNoDuplicates(IEnumerable<JsonElement> events)
    {
        var positions = events.Where(e => e.TryGetProperty("position", out var p) && p.ValueKind == JsonValueKind.Number)
            .Select(PositionOf).ToList();
        Assert.Equal(positions.Count, positions.Distinct().Count());
    }
}
