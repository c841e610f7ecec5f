using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>People who use the REST API directly (history and mentions another client produced), and logging them in to a page.</summary>
public abstract partial class BrowserTest
{
    protected static async Task LogInAsync(IPage page, ApiUser user)
    {
        await page.GetByLabel("Email").FillAsync(user.Email);
        await page.GetByLabel("Password").FillAsync(ApiUser.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.Locator("#workspace")).ToBeVisibleAsync();
    }

    protected static async Task<ApiUser> ApiUserAsync(WebHost node, string name)
    {
        var http = new HttpClient { BaseAddress = node.Url };
        var email = $"{name.ToLowerInvariant()}-{Guid.NewGuid():N}@example.test";
        var response = await http.PostAsJsonAsync("/v1/auth/register", new { email, password = ApiUser.Password, displayName = name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        return new ApiUser(body.GetProperty("userId").GetString()!, email, http);
    }

    /// <summary>Someone using the REST API directly; every call waits for the read models to show what they wrote.</summary>
    protected sealed record ApiUser(string UserId, string Email, HttpClient Http)
    {
        public const string Password = "correct horse battery";

        private long _position;

        public async Task<string?> PostAsync(string path, object body, string? idProperty = null)
        {
            var response = await Http.PostAsJsonAsync(path, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
            var json = JsonDocument.Parse(text).RootElement;
            _position = Math.Max(_position, json.GetProperty("position").GetInt64());
            return idProperty is null ? null : json.GetProperty(idProperty).GetString();
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
}
