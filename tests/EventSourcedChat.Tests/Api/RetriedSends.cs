using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>A retried send (same <c>clientMsgId</c>) is stored once, even when the host restarted in between.</summary>
public sealed class RetriedSends(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task An_idempotent_send_is_stored_once_across_a_host_restart()
    {
        var settings = new Dictionary<string, string?> { ["RateLimits:PostsPerSecond"] = "1000", ["RateLimits:PostsBurst"] = "1000" };
        var send = new { text = "survives restarts", clientMsgId = "restart-1" };
        string ch, token;
        JsonElement first;
        // Everything on the first host, so that the token's signing key is the one it stored in the database.
        await using (var one = new ChatHost(Db, settings))
        {
            using var client = one.CreateClient();
            var registered = await client.PostAsJsonAsync("/v1/auth/register", new { email = "sam@example.test", password = "correct horse battery", displayName = "sam" });
            token = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var sam = new TestUser("", "sam@example.test", client);
            ch = await ChannelAsync(sam, await WorkspaceAsync(sam));
            first = await sam.Ok("POST", $"/v1/channels/{ch}/messages", send, HttpStatusCode.Created);
        }
        await using var two = new ChatHost(Db, settings);
        using var again = two.CreateClient();
        again.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var retry = await new TestUser("", "sam@example.test", again).Ok("POST", $"/v1/channels/{ch}/messages", send, HttpStatusCode.OK);

        Assert.Equal(first.GetProperty("seq").GetInt64(), retry.GetProperty("seq").GetInt64());
        Assert.Equal(first.GetProperty("position").GetInt64(), retry.GetProperty("position").GetInt64());
        Assert.Equal(first.GetProperty("createdAt").GetDateTimeOffset(), retry.GetProperty("createdAt").GetDateTimeOffset());
        await using var cmd = Db.DataSource.CreateCommand("select count(*) from es_events where stream_id = $1 and type = 'message.posted.v1'");
        cmd.Parameters.AddWithValue($"channel-{ch}");
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
    }
}
