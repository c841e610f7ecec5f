using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventSourcedChat.ReadModels.Infrastructure;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Base for tests through the HTTP API of the real host (one host per test run, on the test database,
/// emptied before each test).
/// </summary>
[Collection(PostgresCollection.Name)]
public abstract class ApiTest(PostgresFixture db) : IAsyncLifetime
{
    private static readonly Lock Gate = new();
    private static ChatHost? _host;

    protected PostgresFixture Db { get; } = db;

    /// <summary>The host the test talks to; a test class on other settings (another object store) gives its own.</summary>
    protected virtual ChatHost Host
    {
        get
        {
            lock (Gate)
            {
                return _host ??= new ChatHost(Db, new() { ["RateLimits:PostsPerSecond"] = "1000", ["RateLimits:PostsBurst"] = "1000" });
            }
        }
    }

    public virtual async Task InitializeAsync()
    {
        await Db.ResetAsync();
        _ = Host.Server; // start the host (and its migrations) before the test acts
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    protected HttpClient Anonymous() => Host.CreateClient();

    protected async Task<TestUser> RegisterAsync(string name = "ada", ChatHost? host = null)
    {
        var client = (host ?? Host).CreateClient();
        var email = $"{name}-{Guid.NewGuid():N}@example.test";
        var response = await client.PostAsJsonAsync("/v1/auth/register", new { email, password = "correct horse battery", displayName = name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        return new TestUser(body.GetProperty("userId").GetString()!, email, client);
    }

    /// <summary>A workspace created by <paramref name="admin"/>, with the others added as members.</summary>
    protected static async Task<string> WorkspaceAsync(TestUser admin, params TestUser[] members)
    {
        var ws = (await admin.Ok("POST", "/v1/workspaces", new { name = "Acme" }, HttpStatusCode.Created)).GetProperty("workspaceId").GetString()!;
        foreach (var member in members)
        {
            await admin.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = member.UserId });
        }
        return ws;
    }

    /// <summary>
    /// Waits (bounded) until the directory read model has applied every event appended so far: what reads workspace
    /// membership from it, such as presence visibility on the hub, then sees the memberships acknowledged before.
    /// </summary>
    protected async Task UntilDirectoryAsync()
    {
        await using var cmd = Db.DataSource.CreateCommand("select coalesce(max(position), 0) from es_events");
        var head = (long)(await cmd.ExecuteScalarAsync())!;
        await Eventually.Until(() => ReadYourWrites.CaughtUpAsync(Db.DataSource, head, [ChannelAccess.Directory], default),
            ok => ok, TimeSpan.FromSeconds(20), $"the directory projection to reach {head}");
    }

    protected static async Task<string> ChannelAsync(TestUser creator, string workspaceId, string name = "general", bool isPrivate = false) =>
        (await creator.Ok("POST", $"/v1/workspaces/{workspaceId}/channels", new { name, isPrivate }, HttpStatusCode.Created))
            .GetProperty("channelId").GetString()!;

    /// <summary>How many events the log holds: "nothing appended" checks compare it before and after.</summary>
    protected async Task<long> EventCountAsync()
    {
        await using var cmd = Db.DataSource.CreateCommand("select count(*) from es_events");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}

public sealed record TestUser(string UserId, string Email, HttpClient Client)
{
    /// <summary>The same user (same token) talking to another host.</summary>
    public TestUser On(ChatHost host)
    {
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = Client.DefaultRequestHeaders.Authorization;
        return this with { Client = client };
    }

    public async Task<HttpResponseMessage> SendAsync(string method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is string raw)
        {
            request.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return await Client.SendAsync(request);
    }

    /// <summary>Sends and asserts the status (200 unless told), answering the JSON body.</summary>
    public async Task<JsonElement> Ok(string method, string path, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await SendAsync(method, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Sends and asserts a problem+json answer with the status and stable code.</summary>
    public async Task<JsonElement> Problem(string method, string path, object? body, HttpStatusCode status, string code)
    {
        var response = await SendAsync(method, path, body);
        return await Problems.AssertAsync(response, status, code);
    }
}

public static class Problems
{
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
