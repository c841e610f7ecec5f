using System.Net;
using System.Net.Sockets;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace EventSourcedChat.Tests.Web;

/// <summary>
/// Invites on the page: an admin invites by email and the real mail's link (read back from the SMTP sink of
/// scripts/services.sh) signs a newcomer up into the workspace; a shareable link with a use limit signs an existing
/// account in and joins; a revoked link is refused with words; the admin's list shows each invite's state.
/// </summary>
public sealed class InviteLinks(PostgresFixture db) : BrowserTest(db)
{
    [Fact]
    public async Task A_mailed_invite_signs_a_newcomer_up_into_the_workspace_a_shareable_link_signs_someone_in_and_a_revoked_one_is_refused()
    {
        // The links in mails point at this host: its address is fixed before it starts.
        var port = FreePort();
        var node = StartHost(port, new() { ["Mail:PublicUrl"] = $"http://127.0.0.1:{port}" });
        var ada = await ApiUser.RegisterAsync(node, "Ada");
        var bob = await ApiUser.RegisterAsync(node, "Bob");
        var carol = await ApiUser.RegisterAsync(node, "Carol");
        var dave = await ApiUser.RegisterAsync(node, "Dave");
        var ws = await ada.PostAsync("/v1/workspaces", new { name = "Acme" }, "workspaceId");
        await ada.PostAsync($"/v1/workspaces/{ws}/channels", new { name = "general" }, "channelId");
        var adaPage = await OpenPageAsync(node.Url.ToString());
        await ada.LogInAsync(adaPage);

        // Ada invites a newcomer by email.
        var newcomer = $"newcomer-{Guid.NewGuid():N}@example.test";
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Invite people" }).ClickAsync();
        await adaPage.GetByLabel("Email address").FillAsync(newcomer);
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Send invite" }).ClickAsync();
        await Expect(adaPage.GetByTestId("invites-note")).ToHaveTextAsync($"Invite sent to {newcomer}.");
        await Expect(adaPage.GetByTestId("invite")).ToHaveCountAsync(1);
        await Expect(adaPage.GetByTestId("invite").First).ToHaveAttributeAsync("data-state", "active");

        // The newcomer follows the mailed link, signs up with the invited address and is in the workspace.
        var link = MailBox.LinkIn(Assert.Single(await MailBox.WaitAsync(newcomer)), $"http://127.0.0.1:{port}/invite?code=");
        // The link's path serves the page itself, with the page's strict headers.
        using (var http = new HttpClient())
        using (var served = await http.GetAsync(new Uri(link)))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("text/html", served.Content.Headers.ContentType?.MediaType);
            Assert.Contains("script-src 'self'", served.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }
        var newPage = await OpenPageAsync(link);
        await Expect(newPage.GetByTestId("invite-note")).ToBeVisibleAsync();
        await newPage.GetByRole(AriaRole.Button, new() { Name = "Create an account" }).ClickAsync();
        await Expect(newPage.GetByTestId("invite-note")).ToBeVisibleAsync();
        await newPage.GetByLabel("Display name").FillAsync("Newton");
        await newPage.GetByLabel("Email").FillAsync(newcomer);
        await newPage.GetByLabel("Password").FillAsync(ApiUser.Password);
        await newPage.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(newPage.Locator("#workspace")).ToHaveValueAsync(ws!);
        await Expect(newPage.Locator("#sidebar .channel", new() { HasText = "general" })).ToHaveCountAsync(0); // a member of no channel yet
        Assert.Equal($"http://127.0.0.1:{port}/", newPage.Url);

        // A shareable link for two uses: Bob (an account already) follows it, logs in and is in; Carol, signed in
        // already, follows it and is in at once.
        await adaPage.GetByLabel("Expires after").SelectOptionAsync("1");
        await adaPage.GetByLabel("Uses").FillAsync("2");
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Create link" }).ClickAsync();
        var shareable = await adaPage.GetByLabel("Invite link").InputValueAsync();
        Assert.StartsWith($"http://127.0.0.1:{port}/invite?code=", shareable, StringComparison.Ordinal);
        var bobPage = await OpenPageAsync(shareable);
        await Expect(bobPage.GetByTestId("invite-note")).ToBeVisibleAsync();
        await bob.LogInAsync(bobPage);
        await Expect(bobPage.Locator("#workspace")).ToHaveValueAsync(ws!);
        var carolPage = await OpenPageAsync(node.Url.ToString());
        await carolPage.GetByLabel("Email").FillAsync(carol.Email);
        await carolPage.GetByLabel("Password").FillAsync(ApiUser.Password);
        await carolPage.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(carolPage.GetByRole(AriaRole.Heading, new() { Name = "Create a workspace" })).ToBeVisibleAsync();
        await carolPage.GotoAsync(shareable);
        await Expect(carolPage.Locator("#workspace")).ToHaveValueAsync(ws!);

        // Another link, revoked from the list: Dave following it is told so and joins nothing.
        await adaPage.GetByRole(AriaRole.Button, new() { Name = "Create link" }).ClickAsync();
        await Expect(adaPage.GetByLabel("Invite link")).Not.ToHaveValueAsync(shareable);
        var revoked = await adaPage.GetByLabel("Invite link").InputValueAsync();
        Assert.NotEqual(shareable, revoked);
        var invites = adaPage.GetByTestId("invite");
        await Expect(invites).ToHaveCountAsync(3);
        await invites.First.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(invites.Locator(".invite-state")).ToHaveTextAsync(["revoked", "used up", "used up"]);
        await ScreenshotAsync(adaPage, "invites");
        var davePage = await OpenPageAsync(revoked);
        await davePage.GetByLabel("Email").FillAsync(dave.Email);
        await davePage.GetByLabel("Password").FillAsync(ApiUser.Password);
        await davePage.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(davePage.GetByTestId("invite-problem")).ToContainTextAsync("This invite was revoked by an admin of the workspace.");
        await davePage.GetByTestId("invite-problem").GetByRole(AriaRole.Button, new() { Name = "OK" }).ClickAsync();
        await Expect(davePage.GetByRole(AriaRole.Heading, new() { Name = "Create a workspace" })).ToBeVisibleAsync();
        Assert.Empty((await dave.GetAsync("/v1/workspaces")).EnumerateArray());
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
