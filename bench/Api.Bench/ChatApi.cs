using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace EventSourcedChat.ApiBench;

/// <summary>A signed-in bench user.</summary>
internal sealed record BenchUser(string UserId, string Token)
{
    public AuthenticationHeaderValue Authorization { get; } = new("Bearer", Token);
}

/// <summary>The few API calls the bench needs, over one shared HttpClient (SocketsHttpHandler, many connections).</summary>
internal sealed class ChatApi(HttpClient http)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public HttpClient Http => http;

    public static HttpClient CreateClient(Uri baseAddress) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1024,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public async Task<BenchUser> RegisterAsync(string name)
    {
        var body = await SendAsync(null, HttpMethod.Post, "v1/auth/register",
            new { email = $"{name}-{Guid.NewGuid():N}@bench.test", password = "bench password 123", displayName = name }, HttpStatusCode.Created);
        return new BenchUser(body.GetProperty("userId").GetString()!, body.GetProperty("token").GetString()!);
    }

    public async Task<string> CreateWorkspaceAsync(BenchUser admin, string name) =>
        (await SendAsync(admin, HttpMethod.Post, "v1/workspaces", new { name }, HttpStatusCode.Created)).GetProperty("workspaceId").GetString()!;

    public Task AddMemberAsync(BenchUser admin, string workspaceId, BenchUser member) =>
        SendAsync(admin, HttpMethod.Post, $"v1/workspaces/{workspaceId}/members", new { userId = member.UserId }, HttpStatusCode.OK);

    public async Task<string> CreateChannelAsync(BenchUser creator, string workspaceId, string name) =>
        (await SendAsync(creator, HttpMethod.Post, $"v1/workspaces/{workspaceId}/channels", new { name }, HttpStatusCode.Created))
            .GetProperty("channelId").GetString()!;

    /// <summary>Tries <c>POST /v1/channels/{ch}/join</c>: true when it answers 2xx, false when the route is not there (404).</summary>
    public async Task<bool> TryJoinAsync(BenchUser user, string channelId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{channelId}/join");
        request.Headers.Authorization = user.Authorization;
        request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        if (response.IsSuccessStatusCode)
        {
            return true;
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        throw new InvalidOperationException($"join answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>One post, the body already encoded; answers the status (201 expected).</summary>
    public async Task<HttpStatusCode> PostMessageAsync(BenchUser user, string messagesPath, byte[] body, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, messagesPath);
        request.Headers.Authorization = user.Authorization;
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        request.Content = content;
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return response.StatusCode;
    }

    public static string MessagesPath(string channelId) => $"v1/channels/{channelId}/messages";

    /// <summary>A post body as a client sends it: text plus a fresh <c>clientMsgId</c> (idempotent sends).</summary>
    public static byte[] PostBody(string text) =>
        JsonSerializer.SerializeToUtf8Bytes(new { text, clientMsgId = Guid.NewGuid().ToString("N") });

    private async Task<JsonElement> SendAsync(BenchUser? user, HttpMethod method, string path, object body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = user?.Authorization;
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        }
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}
