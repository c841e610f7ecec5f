using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>Someone using the REST API directly; every call waits for the read models to show what they wrote.</summary>
internal sealed record ApiUser(string UserId, string Email, HttpClient Http)
{
    public const string Password = "correct horse battery";

    private long _position;

    /// <summary>Registers <paramref name="name"/> through the REST API of <paramref name="node"/>.</summary>
    public static async Task<ApiUser> RegisterAsync(WebHost node, string name)
    {
        var http = new HttpClient { BaseAddress = node.Url };
        var email = $"{name.ToLowerInvariant()}-{Guid.NewGuid():N}@example.test";
        var response = await http.PostAsJsonAsync("/v1/auth/register", new { email, password = Password, displayName = name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        return new ApiUser(body.GetProperty("userId").GetString()!, email, http);
    }

    /// <summary>Logs this user in on <paramref name="page"/> (its log-in form) and waits for the shell.</summary>
    public async Task LogInAsync(IPage page)
    {
        await page.GetByLabel("Email").FillAsync(Email);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.Locator("#workspace")).ToBeVisibleAsync();
    }

    public async Task<string?> PostAsync(string path, object body, string? idProperty = null)
    {
        var response = await Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        var json = JsonDocument.Parse(text).RootElement;
        _position = Math.Max(_position, json.GetProperty("position").GetInt64());
        return idProperty is null ? null : json.GetProperty(idProperty).GetString();
    }

    /// <summary>A command with any method (PATCH, PUT, DELETE); its position is waited for by later reads.</summary>
    public async Task SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        _position = Math.Max(_position, JsonDocument.Parse(text).RootElement.GetProperty("position").GetInt64());
    }

    /// <summary>Posts a message (a reply with <paramref name="threadRootSeq"/>); answers its seq.</summary>
    public async Task<long> PostMessageAsync(string channelId, string text, long? threadRootSeq = null)
    {
        var response = await Http.PostAsJsonAsync($"/v1/channels/{channelId}/messages", new { text, threadRootSeq });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST message: {(int)response.StatusCode} {body}");
        var json = JsonDocument.Parse(body).RootElement;
        _position = Math.Max(_position, json.GetProperty("position").GetInt64());
        return json.GetProperty("seq").GetInt64();
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Min-Position", _position.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
