using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace EventSourcedChat.ReadSideBench;

/// <summary>A signed-in bench user.</summary>
internal sealed record BenchUser(string UserId, string Token)
{
    public AuthenticationHeaderValue Authorization { get; } = new("Bearer", Token);
}

/// <summary>The few API calls the bench needs, over one shared HttpClient (copied from Api.Bench, plus timed GETs).</summary>
internal sealed class ChatApi(HttpClient http)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

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
        Timeout = TimeSpan.FromSeconds(120),
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

    public Task<JsonElement> PostJsonAsync(BenchUser user, string path, object body, HttpStatusCode expected) =>
        SendAsync(user, HttpMethod.Post, path, body, expected);

    /// <summary>One post, the body already encoded; answers the status (201 expected).</summary>
    public async Task<HttpStatusCode> PostMessageAsync(BenchUser user, string channelId, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{channelId}/messages");
        request.Headers.Authorization = user.Authorization;
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        request.Content = content;
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        return response.StatusCode;
    }

    public static byte[] PostBody(string text) =>
        JsonSerializer.SerializeToUtf8Bytes(new { text, clientMsgId = Guid.NewGuid().ToString("N") });

    /// <summary>A GET whose whole body is read; answers the elapsed Stopwatch ticks. Anything but 200 throws.</summary>
    public async Task<long> TimedGetAsync(BenchUser user, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = user.Authorization;
        var start = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var elapsed = Stopwatch.GetTimestamp() - start;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {Encoding.UTF8.GetString(bytes)}");
        }
        return elapsed;
    }

    public async Task<JsonElement> GetJsonAsync(BenchUser user, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = user.Authorization;
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {text}");
        }
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private async Task<JsonElement> SendAsync(BenchUser? user, HttpMethod method, string path, object body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path);
        if (user is not null)
        {
            request.Headers.Authorization = user.Authorization;
        }
        request.Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
        request.Content.Headers.ContentType = Json;
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        }
        using var doc = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        return doc.RootElement.Clone();
    }
}

internal static class Stats
{
    /// <summary>The nearest-rank percentile of Stopwatch ticks (sorted here), in milliseconds.</summary>
    public static double PercentileMs(IReadOnlyCollection<long> ticks, double p)
    {
        if (ticks.Count == 0)
        {
            return double.NaN;
        }
        var sorted = ticks.Order().ToArray();
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
