using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

public sealed class Limits(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task Posting_faster_than_the_per_user_limit_is_rate_limited_with_retry_after()
    {
        await using var strict = new ChatHost(Db, new() { ["RateLimits:PostsPerSecond"] = "1", ["RateLimits:PostsBurst"] = "3" });
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        // A token issued by one node is accepted by another (the key ring is shared in PostgreSQL).
        var client = strict.CreateClient();
        client.DefaultRequestHeaders.Authorization = ada.Client.DefaultRequestHeaders.Authorization;

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 6; i++)
        {
            var response = await client.PostAsJsonAsync($"/v1/channels/{ch}/messages", new { text = $"m{i}" });
            statuses.Add(response.StatusCode);
            limited ??= response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created], statuses.Take(3));
        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        await Problems.AssertAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
    }

    [Fact]
    public async Task The_openapi_document_lists_every_command_endpoint_with_the_problem_shape()
    {
        var response = await Anonymous().GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = await response.Content.ReadFromJsonAsync<JsonElement>();
        var paths = doc.GetProperty("paths");

        foreach (var path in new[]
        {
            "/v1/auth/register", "/v1/auth/login", "/v1/workspaces", "/v1/workspaces/{workspaceId}/members",
            "/v1/workspaces/{workspaceId}/channels", "/v1/channels/{channelId}/messages",
        })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        }
        var post = paths.GetProperty("/v1/channels/{channelId}/messages").GetProperty("post");
        Assert.True(post.GetProperty("responses").GetProperty("404").GetProperty("content").TryGetProperty("application/problem+json", out _));
    }

    [Fact]
    public async Task An_unknown_route_is_a_problem_with_not_found()
    {
        var ada = await RegisterAsync("ada");

        await ada.Problem("GET", "/v1/nothing-here", null, HttpStatusCode.NotFound, "not_found");
    }
}
