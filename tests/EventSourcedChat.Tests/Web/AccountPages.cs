using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// The account pages: a password change (other sessions end), "log out everywhere", and a password reset asked for on
/// the log-in page, followed from the real mail (the SMTP server of scripts/services.sh) to a new password.
/// </summary>
public sealed class AccountPages(PostgresFixture db) : BrowserTest(db)
{
    private const string NewPassword = "a brand new passphrase";

    [Fact]
    public async Task A_password_change_signs_out_other_sessions_and_log_out_everywhere_ends_every_session()
    {
        var node = StartHost();
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        var page = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(page);
        var otherPage = await OpenPageAsync(node.Url.ToString()); // another browser of Ada's
        await ada.LogInAsync(otherPage);

        var dialog = await OpenAccountAsync(page);
        await dialog.GetByLabel("Current password").FillAsync("not my password");
        await dialog.GetByLabel("New password (8 characters or more)").FillAsync(NewPassword);
        await dialog.GetByLabel("New password again").FillAsync(NewPassword);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(dialog.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The current password is wrong.");
        await dialog.GetByLabel("Current password").FillAsync(ApiUser.Password);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.Locator("dialog[open]")).ToHaveCountAsync(0);
        await Expect(page.Locator(".toast", new() { HasText = "Password changed" })).ToBeVisibleAsync();

        // The other browser's page is signed out by itself (the server closed its hub connection, whose reconnect is
        // refused); the API client's session ended too; the page's goes on; only the new password signs in.
        await Expect(otherPage.GetByRole(AriaRole.Heading, new() { Name = "Log in to EventSourcedChat" })).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await ada.Http.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LogInAsync(node, ada.Email, ApiUser.Password)).StatusCode);
        var other = await SessionAsync(node, ada.Email, NewPassword);
        await page.ReloadAsync();
        await Expect(page.Locator("#workspace")).ToBeVisibleAsync();

        // Log out everywhere (asked twice): the page is signed out, and so is the other session.
        dialog = await OpenAccountAsync(page);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Log out everywhere" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Really log out on every device?" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Log in to EventSourcedChat" })).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await other.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);
        Assert.Null(await page.EvaluateAsync<string?>("() => localStorage.getItem('esc.session')"));
    }

    [Fact]
    public async Task A_reset_link_from_the_mail_opens_the_page_that_sets_a_new_password_once()
    {
        var port = FreePort();
        var node = StartHost(port, new() { ["Mail:PublicUrl"] = $"http://127.0.0.1:{port}" });
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");

        var page = await OpenPageAsync(node.Url.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Forgot your password?" }).ClickAsync();
        await page.GetByLabel("Email").FillAsync(ada.Email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send me a reset link" }).ClickAsync();
        await Expect(page.GetByTestId("reset-sent")).ToContainTextAsync(ada.Email);

        var mail = Assert.Single(await MailBox.WaitAsync(ada.Email, timeout: TimeSpan.FromSeconds(30)));
        var link = MailBox.LinkIn(mail, $"http://127.0.0.1:{port}/reset-password?token=");
        await page.GotoAsync(link);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Set a new password" })).ToBeVisibleAsync();
        await page.GetByLabel("New password (8 characters or more)").FillAsync(NewPassword);
        await page.GetByLabel("New password again").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Set new password" }).ClickAsync();
        await Expect(page.GetByTestId("reset-done")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await ada.Http.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);

        // The page's "Log in" leads to the log-in form, where the new password works.
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true }).ClickAsync();
        await page.GetByLabel("Email").FillAsync(ada.Email);
        await page.GetByLabel("Password").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true }).ClickAsync();
        await Expect(page.Locator("#workspace")).ToBeVisibleAsync();

        // The link works once.
        var again = await OpenPageAsync(link);
        await again.GetByLabel("New password (8 characters or more)").FillAsync("yet another passphrase");
        await again.GetByLabel("New password again").FillAsync("yet another passphrase");
        await again.GetByRole(AriaRole.Button, new() { Name = "Set new password" }).ClickAsync();
        await Expect(again.GetByRole(AriaRole.Alert)).ToContainTextAsync("expired or was used already");
        Assert.Equal(HttpStatusCode.OK, (await LogInAsync(node, ada.Email, NewPassword)).StatusCode);
    }

    private static async Task<ILocator> OpenAccountAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Account", Exact = true }).ClickAsync();
        var dialog = page.Locator("dialog[open]");
        await Expect(dialog.GetByRole(AriaRole.Heading, new() { Name = "Account", Exact = true })).ToBeVisibleAsync();
        return dialog;
    }

    private static async Task<HttpResponseMessage> LogInAsync(WebHost node, string email, string password)
    {
        var http = new HttpClient { BaseAddress = node.Url };
        return await http.PostAsJsonAsync("/v1/auth/login", new { email, password });
    }

    /// <summary>A signed-in API client: another device's session.</summary>
    private static async Task<HttpClient> SessionAsync(WebHost node, string email, string password)
    {
        var login = await LogInAsync(node, email, password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var http = new HttpClient { BaseAddress = node.Url };
        http.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        return http;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
