using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Audit;

/// <summary>GET /v1/audit/channels/{ch}/as-of with <c>?limit=</c> and the <c>nextCursor</c> of each page.</summary>
public sealed class AsOfPaging(PostgresFixture db) : AuditTest(db)
{
    [Fact]
    public async Task Pages_of_the_as_of_view_hold_every_message_once_and_together_equal_the_whole_view()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        var root = await PostAsync(ada, ch, "a question");
        var first = await PostAsync(bob, ch, "an answer", root);
        await PostAsync(ada, ch, "another answer", root);
        await bob.Ok("PUT", $"/v1/channels/{ch}/messages/{root}/reactions/thumbsup");
        await ada.Ok("PATCH", $"/v1/channels/{ch}/messages/{root}", new { text = "a better question" });
        await ada.Ok("DELETE", $"/v1/channels/{ch}/messages/{first}");
        for (var i = 0; i < 4; i++)
        {
            await PostAsync(i % 2 == 0 ? ada : bob, ch, $"message {i}");
        }
        var at = Uri.EscapeDataString("2030-01-01T00:00:00Z");
        var whole = await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at={at}");
        Assert.Equal(JsonValueKind.Null, whole.GetProperty("nextCursor").ValueKind);
        Assert.Equal(7, whole.GetProperty("messages").GetArrayLength());

        var pages = new List<JsonElement> { await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at={at}&limit=2") };
        // Posted after the first page: not in the later pages, which show the channel as of the first page's head.
        await PostAsync(bob, ch, "too late");
        while (pages[^1].GetProperty("nextCursor").GetString() is { } cursor && pages.Count < 20)
        {
            pages.Add(await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?limit=2&cursor={cursor}"));
        }

        Assert.Equal([2, 2, 2, 1], pages.Select(p => p.GetProperty("messages").GetArrayLength()));
        Assert.Equal(JsonSerializer.Serialize(whole.GetProperty("messages").EnumerateArray()),
            JsonSerializer.Serialize(pages.SelectMany(p => p.GetProperty("messages").EnumerateArray())));
        foreach (var page in pages)
        {
            foreach (var field in new[] { "channelId", "at", "seq", "name", "kind", "topic", "archived", "members" })
            {
                Assert.Equal(whole.GetProperty(field).GetRawText(), page.GetProperty(field).GetRawText());
            }
        }
        var reads = await AuditReadsAsync(ws);
        Assert.Equal(5, reads.Count);
        Assert.All(reads, r => Assert.Equal(whole.GetProperty("seq").GetInt64(), r.GetProperty("toSeq").GetInt64()));
    }

    [Fact]
    public async Task A_bad_as_of_limit_or_cursor_is_rejected_before_anything_is_recorded()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        for (var i = 0; i < 3; i++)
        {
            await PostAsync(ada, ch, $"message {i}");
        }
        var at = "2030-01-01T00:00:00Z";
        var cursor = (await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at={at}&limit=1")).GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        var recorded = (await AuditReadsAsync(ws)).Count;

        foreach (var query in new[]
                 {
                     $"at={at}&limit=0", $"at={at}&limit=10001", $"at={at}&limit=x", $"at={at}&cursor=not-a-cursor", $"at={at}&cursor=",
                     "cursor=W10", $"at=2029-01-01T00:00:00Z&cursor={cursor}", "limit=1",
                 })
        {
            await ada.Problem("GET", $"/v1/audit/channels/{ch}/as-of?{query}", null, HttpStatusCode.BadRequest, "invalid_request");
        }

        Assert.Equal(recorded, (await AuditReadsAsync(ws)).Count);
        var next = await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at={at}&limit=1&cursor={cursor}");
        Assert.Equal(4, next.GetProperty("messages")[0].GetProperty("seq").GetInt64());
    }
}
