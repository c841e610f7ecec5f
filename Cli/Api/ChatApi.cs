using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace EventSourcedChat.Cli.Api;

/// <summary>A command failed in a way the user can act on (a problem answer, a missing setting); printed without a stack.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>The REST API as the CLI uses it: bearer token, JSON bodies, problem answers turned into <see cref="CliException"/>.</summary>
public sealed class ChatApi(HttpClient http)
{
    public HttpClient Http { get; } = http;

    /// <summary>A client for <paramref name="url"/> with an optional bearer <paramref name="token"/>.</summary>
    public static ChatApi Create(string url, string? token)
    {
        var http = new HttpClient { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return new ChatApi(http);
    }

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await Http.SendAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Throws a <see cref="CliException"/> naming the status, code and detail of a failed answer.</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var text = await response.Content.ReadAsStringAsync(ct);
        var (code, detail) = ("", text);
        try
        {
            using var problem = JsonDocument.Parse(text);
            code = problem.RootElement.TryGetProperty("code", out var c) ? c.GetString() ?? "" : "";
            detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : text;
        }
        catch (JsonException)
        {
        }
        throw new CliException($"{(int)response.StatusCode} {code}: {detail}".Trim());
    }
}
