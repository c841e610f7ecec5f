using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>The page against history and people that another client (the REST API) produced.</summary>
public sealed class Conversations(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task Scrolling_up_loads_older_pages_until_the_beginning_with_each_message_once_in_order()
    {
        var node = StartHost();
        var ada = await ApiUserAsync(node, "Ada");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        for (var i = 1; i <= 120; i++)
        {
            await ada.PostAsync($"/v1/channels/{general}/messages", new { text = $"Message {i}" });
        }

        var page = await OpenPageAsync(node.Url.ToString());
        await LogInAsync(page, ada);
        var texts = page.Locator("#messages .msg .text");
        await Expect(texts).ToHaveCountAsync(50);
        await Expect(texts.Last).ToHaveTextAsync("Message 120");
        await Expect(texts.Last).ToBeInViewportAsync();

        await page.Locator("#messages").EvaluateAsync("list => list.scrollTop = 0");
        await Expect(texts).ToHaveCountAsync(100);
        await Expect(texts.First).ToHaveTextAsync("Message 21");
        await page.Locator("#messages").EvaluateAsync("list => list.scrollTop = 0");
        await Expect(texts).ToHaveTextAsync(Enumerable.Range(1, 120).Select(i => $"Message {i}").ToArray());
        await Expect(page.Locator("#messages .start")).ToHaveTextAsync("This is the very beginning of #general.");
        await Expect(page.Locator("#messages .day")).ToHaveTextAsync(["Today"]);
    }

    [Fact]
    public async Task A_direct_message_and_a_mention_from_someone_else_raise_live_badges_that_clear_when_read()
    {
        var node = StartHost();
        var ada = await ApiUserAsync(node, "Ada");
        var bob = await ApiUserAsync(node, "Bob");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var general = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        var random = await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "random" }, "channelId");
        await ada.PostAsync($"/v1/channels/{random}/members", new { userId = bob.UserId });

        var page = await OpenPageAsync(node.Url.ToString());
        await LogInAsync(page, ada);
        await page.Locator($"#sidebar [data-channel=\"{general}\"]").ClickAsync();
        await Expect(page.Locator("#channel-title")).ToHaveTextAsync("#general");

        // Bob opens a DM with Ada and writes: the DM appears under his name with an unread badge.
        var dm = await bob.PostAsync($"/v1/workspaces/{ws}/dms", new { userIds = new[] { ada.UserId } }, "channelId");
        await bob.PostAsync($"/v1/channels/{dm}/messages", new { text = "psst" });
        var dmButton = page.Locator($"#sidebar [data-channel=\"{dm}\"]");
        await Expect(dmButton.Locator(".label")).ToHaveTextAsync("Bob");
        await Expect(dmButton.GetByTestId("unread-badge")).ToHaveTextAsync("1");

        // A mention in another channel: unread and mention badges.
        await bob.PostAsync($"/v1/channels/{random}/messages", new { text = $"<@{ada.UserId}> look at this" });
        var randomButton = page.Locator($"#sidebar [data-channel=\"{random}\"]");
        await Expect(randomButton.GetByTestId("mention-badge")).ToHaveTextAsync("@1");
        await Expect(randomButton.GetByTestId("unread-badge")).ToHaveTextAsync("1");
        await ScreenshotAsync(page, "08-dm-and-mention-badges");

        await dmButton.ClickAsync();
        await Expect(page.Locator("#messages .msg .text")).ToHaveTextAsync(["psst"]);
        await Expect(dmButton.GetByTestId("unread-badge")).ToHaveCountAsync(0);
        await page.Locator("#composer").FillAsync("hi Bob");
        await page.Locator("#composer").PressAsync("Enter");
        await Expect(page.GetByTestId("pending-message")).ToHaveCountAsync(0);

        await randomButton.ClickAsync();
        await Expect(page.Locator("#messages .msg .mention.me")).ToHaveTextAsync("Ada");
        await Expect(randomButton.GetByTestId("mention-badge")).ToHaveCountAsync(0);

        // What the page sent and read is what the API holds.
        var texts = await Eventually.Until(
            async () => (await bob.GetAsync($"/v1/channels/{dm}/messages")).GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList(),
            list => list.Count == 2, what: "Ada's reply in the DM's history");
        Assert.Equal(["hi Bob", "psst"], texts);
        await Eventually.Until(
            async () => string.Join(", ", (await ada.GetAsync($"/v1/workspaces/{ws}/channels")).EnumerateArray()
                .Select(c => $"{c.GetProperty("name").GetString()}/{c.GetProperty("kind").GetString()}: {c.GetProperty("unreadCount").GetInt32()}")),
            counts => !counts.Contains(": 1", StringComparison.Ordinal) && !counts.Contains(": 2", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), "Ada's read markers to clear every unread count");
    }

    private static async Task LogInAsync(IPage page, ApiUser user)
    {
        await page.GetByLabel("Email").FillAsync(user.Email);
        await page.GetByLabel("Password").FillAsync(ApiUser.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.Locator("#workspace")).ToBeVisibleAsync();
    }

    private static async Task<ApiUser> ApiUserAsync(WebHost node, string name)
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
    private sealed record ApiUser(string UserId, string Email, HttpClient Http)
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
