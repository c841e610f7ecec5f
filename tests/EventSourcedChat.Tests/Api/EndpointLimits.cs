using System.Net;
using System.Net.Http.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// The expensive endpoints besides posting are throttled too: registering per client address, creating workspaces and
/// channels and reading the audit log per user. Each test runs a host of its own with small limits and its own Redis key
/// prefix (the test host's defaults are far above what the suite does).
/// </summary>
public sealed class EndpointLimits(PostgresFixture db) : ApiTest(db)
{
    /// <summary>A host allowing <paramref name="burst"/> requests of a kind, then one more per hour.</summary>
    private static ChatHost Strict(PostgresFixture db, string kind, int burst) => new(db, new()
    {
        ["Roles"] = "api",
        ["RateLimits:Prefix"] = $"esc_tests_limits:{Guid.NewGuid():N}:",
        [$"RateLimits:{kind}Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [$"RateLimits:{kind}PerHour"] = "1",
    });

    [Fact]
    public async Task Registering_too_often_from_one_address_is_rate_limited()
    {
        await using var strict = Strict(Db, "Registrations", 3);
        var client = strict.CreateClient();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 4; i++)
        {
            var response = await client.PostAsJsonAsync("/v1/auth/register",
                new { email = $"user{i}-{Guid.NewGuid():N}@example.test", password = "correct horse battery", displayName = $"user {i}" });
            statuses.Add(response.StatusCode);
            limited ??= response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests], statuses);
        await AssertLimitedAsync(limited!);
    }

    [Fact]
    public async Task Creating_workspaces_too_often_is_rate_limited_per_user()
    {
        await using var strict = Strict(Db, "Workspaces", 2);
        var ada = (await RegisterAsync("ada")).On(strict);
        var bob = (await RegisterAsync("bob")).On(strict);
        await ada.Ok("POST", "/v1/workspaces", new { name = "one" }, HttpStatusCode.Created);
        await ada.Ok("POST", "/v1/workspaces", new { name = "two" }, HttpStatusCode.Created);
        var events = await EventCountAsync();

        await AssertLimitedAsync(await ada.SendAsync("POST", "/v1/workspaces", new { name = "three" }));

        Assert.Equal(events, await EventCountAsync());
        // Another user has a budget of their own.
        await bob.Ok("POST", "/v1/workspaces", new { name = "bob's" }, HttpStatusCode.Created);
    }

    [Fact]
    public async Task Creating_channels_too_often_is_rate_limited_per_user()
    {
        await using var strict = Strict(Db, "Channels", 2);
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        ada = ada.On(strict);
        bob = bob.On(strict);
        await ChannelAsync(ada, ws, "one");
        await ChannelAsync(ada, ws, "two");
        var events = await EventCountAsync();

        await AssertLimitedAsync(await ada.SendAsync("POST", $"/v1/workspaces/{ws}/channels", new { name = "three" }));

        Assert.Equal(events, await EventCountAsync());
        await ChannelAsync(bob, ws, "bobs");
    }

    [Fact]
    public async Task Reading_the_audit_log_too_often_is_rate_limited_per_user_and_a_refused_read_is_not_recorded()
    {
        await using var strict = Strict(Db, "AuditReads", 3);
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId, role = "admin" });
        var ch = await ChannelAsync(ada, ws);
        ada = ada.On(strict);
        bob = bob.On(strict);
        await ada.Ok("GET", $"/v1/audit/channels/{ch}/verify");
        await ada.Ok("GET", $"/v1/audit/channels/{ch}/as-of?at={Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"))}");
        Assert.Equal(HttpStatusCode.OK, (await ada.SendAsync("GET", $"/v1/audit/channels/{ch}/events")).StatusCode);
        var events = await EventCountAsync();

        await AssertLimitedAsync(await ada.SendAsync("GET", $"/v1/audit/channels/{ch}/verify"));
        await AssertLimitedAsync(await ada.SendAsync("GET", $"/v1/audit/channels/{ch}/events"));

        Assert.Equal(events, await EventCountAsync());
        await bob.Ok("GET", $"/v1/audit/channels/{ch}/verify");
    }

    [Fact]
    public async Task The_openapi_document_lists_429_on_every_rate_limited_endpoint()
    {
        var doc = await Anonymous().GetFromJsonAsync<System.Text.Json.JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths");

        foreach (var (path, method) in new[]
        {
            ("/v1/auth/register", "post"), ("/v1/workspaces", "post"), ("/v1/workspaces/{workspaceId}/channels", "post"),
            ("/v1/channels/{channelId}/messages", "post"), ("/v1/audit/channels/{channelId}/verify", "get"),
            ("/v1/audit/channels/{channelId}/events", "get"), ("/v1/audit/channels/{channelId}/as-of", "get"),
        })
        {
            var responses = paths.GetProperty(path).GetProperty(method).GetProperty("responses");
            Assert.True(responses.TryGetProperty("429", out var limited) && limited.GetProperty("content").TryGetProperty("application/problem+json", out _),
                $"{method.ToUpperInvariant()} {path} does not list 429 with the problem shape");
        }
    }

    private static async Task AssertLimitedAsync(HttpResponseMessage response)
    {
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"no Retry-After on {(int)response.StatusCode}");
        await Problems.AssertAsync(response, HttpStatusCode.TooManyRequests, "rate_limited");
    }
}
