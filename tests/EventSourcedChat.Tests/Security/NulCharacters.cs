using System.Buffers.Text;
using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Security;

/// <summary>
/// No text of the service may hold a NUL (PostgreSQL's text cannot), so a request carrying one is refused at the API's edge
/// with 400 <c>invalid_request</c> and a detail naming U+0000, before any statement is sent (a path cannot hold one: the
/// server refuses to decode it): the database's own refusal
/// (a data exception at Bind) would cost an automatically prepared statement its connection. Every request is sent
/// several times, past the second use from which a statement is prepared, and requests without a NUL still succeed.
/// </summary>
public sealed class NulCharacters(PostgresFixture db) : ApiTest(db)
{
    private const int Times = 4;

    [Fact]
    public async Task Text_with_a_NUL_in_the_path_the_query_or_a_JSON_field_is_refused_before_it_reaches_the_database()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var posted = (await ada.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "hello" }, HttpStatusCode.Created)).GetProperty("position").GetInt64();
        var events = await EventCountAsync();

        for (var i = 0; i < Times; i++)
        {
            foreach (var (method, path, body) in new (string, string, object?)[]
            {
                ("GET", $"/v1/search?workspaceId={ws}&q=hel%00lo", null),
                ("GET", $"/v1/workspaces/{ws}/members?q=a%00", null),
                ("POST", "/v1/workspaces", new { name = "Ac\0me" }),
                ("POST", $"/v1/workspaces/{ws}/channels", new { name = "ge\0neral" }),
                ("PATCH", $"/v1/channels/{ch}", new { topic = "to\0pic" }),
                ("PATCH", "/v1/users/me", new { title = "ti\0tle" }),
                ("POST", $"/v1/channels/{ch}/messages", new { text = "hi", clientMsgId = "c\0" }),
            })
            {
                var problem = await ada.Problem(method, path, body, HttpStatusCode.BadRequest, "invalid_request");
                Assert.True(problem.GetProperty("detail").GetString()!.Contains("U+0000", StringComparison.Ordinal),
                    $"{method} {path}: refused by something other than the edge: {problem}");
            }
            Assert.Equal("hello", (await ada.Ok("GET", $"/v1/channels/{ch}/messages?minPosition={posted}")).GetProperty("messages")[0].GetProperty("text").GetString());
            await ada.Ok("GET", $"/v1/search?workspaceId={ws}&q=hello&minPosition={posted}");
            await ada.Ok("PATCH", "/v1/users/me", new { title = $"title {i}" });
        }

        Assert.Equal(events + Times, await EventCountAsync()); // the titles, nothing of the refused requests
    }

    [Fact]
    public async Task A_cursor_holding_a_NUL_is_not_one_the_API_gave_out()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        await ChannelAsync(ada, ws);
        await UntilDirectoryAsync();
        var cursor = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new[] { "0", "gen\0eral", "x" }));

        for (var i = 0; i < Times; i++)
        {
            await ada.Problem("GET", $"/v1/workspaces/{ws}/channels?cursor={cursor}", null, HttpStatusCode.BadRequest, "invalid_request");
            await ada.Ok("GET", $"/v1/workspaces/{ws}/channels");
        }
    }

    [Fact]
    public async Task A_hub_argument_with_a_NUL_is_refused_and_the_connection_still_serves()
    {
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        await using var hub = await HubClient.ConnectAsync(Host, ada);

        for (var i = 0; i < Times; i++)
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => hub.InvokeAsync("Typing", $"{ch}\0"));
            // Refused while its arguments were read (a failure inside the method reads "An unexpected error occurred invoking").
            Assert.StartsWith("Typing failed: Failed to invoke 'Typing' due to an error on the server", refused.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<InvalidOperationException>(() => hub.InvokeAsync("SubscribePresence", (object)new[] { $"{ada.UserId}\0" }));
            await hub.InvokeAsync("Typing", ch);
            await hub.InvokeAsync("SubscribePresence", (object)new[] { ada.UserId });
        }
    }
}
