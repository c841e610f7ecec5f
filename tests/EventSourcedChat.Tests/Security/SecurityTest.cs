using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Security;

/// <summary>
/// Base of the security tests: one <see cref="SecurityWorld"/> shared by every test of these classes (rebuilt only when
/// another test class reset the database meanwhile), and the checks every rejected request must pass.
/// </summary>
public abstract class SecurityTest(PostgresFixture db) : ApiTest(db)
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static SecurityWorld? _world;

    protected SecurityWorld World => _world!;

    public override async Task InitializeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_world is null || !await StillThereAsync(_world))
            {
                if (_world is not null)
                {
                    await _world.DisposeAsync();
                    _world = null;
                }
                await base.InitializeAsync();
                _world = await SecurityWorld.BuildAsync(Host, Db);
            }
            // The world is shared, log-in throttling counts are not: the fuzzer's failed log-ins from this one client
            // address would otherwise block the matrix's log-ins (throttling has its own tests in Api/Accounts).
            await ForgetFailedLoginsAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Clears log-in throttling: every client of the test host has the same address.</summary>
    protected async Task ForgetFailedLoginsAsync()
    {
        await using var clear = Db.DataSource.CreateCommand("delete from ws_login_failures");
        await clear.ExecuteNonQueryAsync();
    }

    private async Task<bool> StillThereAsync(SecurityWorld world)
    {
        if (world.WatcherHub.Closed.IsCompleted || world.CreatorHub.Closed.IsCompleted)
        {
            return false;
        }
        await using var cmd = Db.DataSource.CreateCommand("select exists (select 1 from es_events where stream_id = $1)");
        cmd.Parameters.AddWithValue($"workspace-{world.WorkspaceId}");
        return (bool)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>The log's size and head: a rejected request leaves both as they were.</summary>
    protected async Task<(long Count, long Head)> LogAsync()
    {
        await using var cmd = Db.DataSource.CreateCommand("select count(*), coalesce(max(position), 0) from es_events");
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1));
    }

    /// <summary>
    /// Proves the watcher (a member of <paramref name="channelId"/>) was pushed nothing of that channel after
    /// <paramref name="after"/>: the creator posts a marker, and the marker must be the first event the watcher gets.
    /// </summary>
    protected async Task<string?> NothingPushedAsync(string channelId, long after)
    {
        var marker = await World.Creator.Ok("POST", $"/v1/channels/{channelId}/messages", new { text = "marker" }, HttpStatusCode.Created);
        var position = marker.GetProperty("position").GetInt64();
        var events = await World.WatcherHub.WaitUntilAsync(
            e => e.Any(x => Position(x) == position), TimeSpan.FromSeconds(20), $"the marker at {position}");
        var leaked = events.Where(e => Position(e) > after && Position(e) < position && ChannelOf(e) == channelId).ToList();
        return leaked.Count == 0 ? null : $"the watcher was pushed {string.Join(", ", leaked.Select(HubClient.Describe))}";
    }

    protected static long Position(JsonElement e) =>
        e.TryGetProperty("position", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : 0;

    protected static string? ChannelOf(JsonElement e) =>
        e.TryGetProperty("channelId", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;

    /// <summary>A request with a raw body (bytes) or a JSON-serialized object.</summary>
    protected static HttpRequestMessage Request(string method, string path, object? body, string contentType = "application/json", long? minPosition = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is byte[] bytes)
        {
            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        else if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }
        if (minPosition is { } min)
        {
            request.Headers.Add("X-Min-Position", min.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return request;
    }

    /// <summary>The problem's code, or why the answer is not a proper problem+json error.</summary>
    protected static (string? Code, string? Failure) ProblemCode(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return (null, $"content type {response.Content.Headers.ContentType?.MediaType ?? "(none)"}, body {Cut(text)}");
        }
        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            if (!root.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.String)
            {
                return (null, "a problem without a code");
            }
            if (!root.TryGetProperty("status", out var status) || status.GetInt32() != (int)response.StatusCode)
            {
                return (null, "a problem whose status is not the response's");
            }
            return (code.GetString(), null);
        }
        catch (JsonException)
        {
            return (null, $"a problem body that is not JSON: {Cut(text)}");
        }
    }

    protected internal static string Cut(string s) => s.Length > 60 ? string.Concat(s.AsSpan(0, 60), "…") : s;
}
