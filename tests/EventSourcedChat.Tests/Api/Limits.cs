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
    public async Task Two_nodes_sharing_Redis_spend_one_posting_budget_per_user()
    {
        // Burst 5 on each node: a limit kept per node lets all 10 posts through (5 per node); a shared one does not.
        Dictionary<string, string?> settings = new()
        {
            ["Roles"] = "api",
            ["RateLimits:Prefix"] = $"esc_tests_limits:{Guid.NewGuid():N}:",
            ["RateLimits:PostsPerSecond"] = "1",
            ["RateLimits:PostsBurst"] = "5",
        };
        await using var one = new ChatHost(Db, settings);
        await using var two = new ChatHost(Db, settings);
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var nodes = new[] { ada.On(one), ada.On(two) };

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 10; i++)
        {
            answers.Add(await nodes[i % 2].SendAsync("POST", $"/v1/channels/{ch}/messages", new { text = $"m{i}" }));
        }
        var elapsed = clock.Elapsed;

        var created = answers.Count(a => a.StatusCode == HttpStatusCode.Created);
        Assert.True(answers.Take(5).All(a => a.StatusCode == HttpStatusCode.Created), "the first 5 posts fit the burst");
        // One budget: 5 tokens, plus 1 a second while the loop ran.
        Assert.InRange(created, 5, 5 + (int)Math.Ceiling(elapsed.TotalSeconds));
        Assert.True(created < 10, $"all 10 posts were accepted in {elapsed}: each node kept its own budget");
        // Both nodes refuse once the shared budget is spent, each with the problem and a Retry-After.
        foreach (var node in new[] { 0, 1 })
        {
            var limited = answers.Where((a, i) => i % 2 == node && a.StatusCode == HttpStatusCode.TooManyRequests).FirstOrDefault()
                ?? await nodes[node].SendAsync("POST", $"/v1/channels/{ch}/messages", new { text = "again" });
            Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"node {node + 1}: no Retry-After");
            await Problems.AssertAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
        }
    }

    [Fact]
    public async Task While_Redis_does_not_answer_each_node_still_limits_posting_in_memory()
    {
        await using var strict = new ChatHost(Db, new()
        {
            ["Roles"] = "api",
            ["ConnectionStrings:Redis"] = "127.0.0.1:1",
            ["RateLimits:PostsPerSecond"] = "1",
            ["RateLimits:PostsBurst"] = "3",
        });
        var ada = await RegisterAsync("ada");
        var ch = await ChannelAsync(ada, await WorkspaceAsync(ada));
        var onStrict = ada.On(strict);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await onStrict.SendAsync("POST", $"/v1/channels/{ch}/messages", new { text = $"m{i}" })).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created], statuses.Take(3));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
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
