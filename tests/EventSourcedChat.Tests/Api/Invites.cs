using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Invites by email and shareable links, through the API, with the mail read back from the real SMTP server
/// (<see cref="MailBox"/>) and its link followed to the end: signing up or signing in, then joining.
/// </summary>
public sealed class Invites(PostgresFixture db) : ApiTest(db)
{
    private const string Password = "correct horse battery";
    private const string LinkPrefix = "http://127.0.0.1:5080/invite?code=";

    private static async Task<(string InviteId, string Url, long Position)> InviteAsync(TestUser admin, string ws, object body)
    {
        var created = await admin.Ok("POST", $"/v1/workspaces/{ws}/invites", body, HttpStatusCode.Created);
        return (created.GetProperty("inviteId").GetString()!, created.GetProperty("url").GetString()!, created.GetProperty("position").GetInt64());
    }

    private static string CodeOf(string url) => MailBox.QueryOf(url, "code");

    private static async Task<bool> InWorkspaceAsync(TestUser user, string ws, long position, string role = "member") =>
        (await user.Ok("GET", $"/v1/workspaces?minPosition={position}")).EnumerateArray()
            .Any(w => w.GetProperty("workspaceId").GetString() == ws && w.GetProperty("role").GetString() == role);

    private async Task<TestUser> SignedUpAsync(string email)
    {
        var client = Anonymous();
        var response = await client.PostAsJsonAsync("/v1/auth/register", new { email, password = Password, displayName = "newcomer" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        return new TestUser(body.GetProperty("userId").GetString()!, email, client);
    }

    private async Task<TestUser> SignedInAsync(TestUser user)
    {
        var login = await Anonymous().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        return user with { Client = client };
    }

    [Fact]
    public async Task A_mailed_invite_s_link_signs_up_a_new_account_that_joins_the_workspace_once()
    {
        var admin = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(admin);
        var address = $"newcomer-{Guid.NewGuid():N}@example.test";

        var (_, url, _) = await InviteAsync(admin, ws, new { email = address.ToUpperInvariant() });

        var mail = Assert.Single(await MailBox.WaitAsync(address));
        Assert.Equal("ada invited you to Acme on EventSourcedChat", mail.Subject);
        var link = MailBox.LinkIn(mail, LinkPrefix);
        Assert.Equal(url, link);
        var code = CodeOf(link);
        // Only the SHA-256 of the link's secret is stored: the log never holds it.
        await using (var cmd = Db.DataSource.CreateCommand("select count(*) from es_events where strpos(data::text, $1) > 0"))
        {
            cmd.Parameters.AddWithValue(code.Split('.')[1]);
            Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
        }

        var newcomer = await SignedUpAsync(address);
        var accepted = await newcomer.Ok("POST", $"/v1/invites/{code}/accept");

        Assert.Equal(ws, accepted.GetProperty("workspaceId").GetString());
        Assert.True(await InWorkspaceAsync(newcomer, ws, accepted.GetProperty("position").GetInt64()));
        var before = await EventCountAsync();
        await newcomer.Problem("POST", $"/v1/invites/{code}/accept", null, HttpStatusCode.Gone, "invite_used_up");
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task A_mailed_invite_is_accepted_by_signing_in_with_its_address_and_by_no_other_account()
    {
        var admin = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(admin);
        var bob = await RegisterAsync("bob");
        var mallory = await RegisterAsync("mallory");
        await InviteAsync(admin, ws, new { email = bob.Email });
        var code = CodeOf(MailBox.LinkIn(Assert.Single(await MailBox.WaitAsync(bob.Email)), LinkPrefix));
        var before = await EventCountAsync();

        await mallory.Problem("POST", $"/v1/invites/{code}/accept", null, HttpStatusCode.Forbidden, "invite_email_mismatch");
        Assert.Equal(before, await EventCountAsync());

        var signedIn = await SignedInAsync(bob);
        var accepted = await signedIn.Ok("POST", $"/v1/invites/{code}/accept");
        Assert.True(await InWorkspaceAsync(signedIn, ws, accepted.GetProperty("position").GetInt64()));
        Assert.False(await InWorkspaceAsync(mallory, ws, accepted.GetProperty("position").GetInt64()));
    }

    [Fact]
    public async Task A_shareable_link_works_up_to_its_use_limit_and_never_twice_for_a_member()
    {
        var admin = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(admin);
        var (_, url, _) = await InviteAsync(admin, ws, new { maxUses = 2 });
        Assert.StartsWith(LinkPrefix, url, StringComparison.Ordinal);
        var code = CodeOf(url);
        var (bob, carol, dave) = (await RegisterAsync("bob"), await RegisterAsync("carol"), await RegisterAsync("dave"));

        var first = await bob.Ok("POST", $"/v1/invites/{code}/accept");
        var before = await EventCountAsync();
        await bob.Problem("POST", $"/v1/invites/{code}/accept", null, HttpStatusCode.Conflict, "already_member");
        await admin.Problem("POST", $"/v1/invites/{code}/accept", null, HttpStatusCode.Conflict, "already_member");
        Assert.Equal(before, await EventCountAsync());
        var second = await carol.Ok("POST", $"/v1/invites/{code}/accept");
        await dave.Problem("POST", $"/v1/invites/{code}/accept", null, HttpStatusCode.Gone, "invite_used_up");

        Assert.True(await InWorkspaceAsync(bob, ws, first.GetProperty("position").GetInt64()));
        Assert.True(await InWorkspaceAsync(carol, ws, second.GetProperty("position").GetInt64()));
        Assert.False(await InWorkspaceAsync(dave, ws, second.GetProperty("position").GetInt64()));
        var listed = Assert.Single((await admin.Ok("GET", $"/v1/workspaces/{ws}/invites?minPosition={second.GetProperty("position").GetInt64()}")).EnumerateArray());
        Assert.Equal((2, 2, "used_up"), (listed.GetProperty("maxUses").GetInt32(), listed.GetProperty("uses").GetInt32(), listed.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Admins_list_and_revoke_invites_and_a_revoked_link_is_gone()
    {
        var admin = await RegisterAsync("ada");
        var member = await RegisterAsync("bob");
        var outsider = await RegisterAsync("eve");
        var ws = await WorkspaceAsync(admin, member);
        var guest = $"guest-{Guid.NewGuid():N}@example.test";
        var (linkId, url, _) = await InviteAsync(admin, ws, new { maxUses = 5, expiresAt = DateTimeOffset.UtcNow.AddDays(2) });
        var (mailedId, _, position) = await InviteAsync(admin, ws, new { email = guest });

        var listed = (await admin.Ok("GET", $"/v1/workspaces/{ws}/invites?minPosition={position}")).EnumerateArray().ToList();
        Assert.Equal([mailedId, linkId], listed.Select(i => i.GetProperty("inviteId").GetString()));
        Assert.Equal([guest, null], listed.Select(i => i.GetProperty("email").GetString()));
        Assert.All(listed, i => Assert.Equal("active", i.GetProperty("state").GetString()));
        Assert.DoesNotContain(listed, i => i.TryGetProperty("url", out _) || i.TryGetProperty("codeHash", out _));
        await member.Problem("GET", $"/v1/workspaces/{ws}/invites", null, HttpStatusCode.Forbidden, "forbidden");
        await outsider.Problem("GET", $"/v1/workspaces/{ws}/invites", null, HttpStatusCode.NotFound, "not_found");
        await member.Problem("DELETE", $"/v1/workspaces/{ws}/invites/{linkId}", null, HttpStatusCode.Forbidden, "forbidden");
        await outsider.Problem("DELETE", $"/v1/workspaces/{ws}/invites/{linkId}", null, HttpStatusCode.NotFound, "not_found");

        var revoked = (await admin.Ok("DELETE", $"/v1/workspaces/{ws}/invites/{linkId}")).GetProperty("position").GetInt64();
        var before = await EventCountAsync();
        Assert.Equal(revoked, (await admin.Ok("DELETE", $"/v1/workspaces/{ws}/invites/{linkId}")).GetProperty("position").GetInt64());
        await outsider.Problem("POST", $"/v1/invites/{CodeOf(url)}/accept", null, HttpStatusCode.Gone, "invite_revoked");
        await admin.Problem("DELETE", $"/v1/workspaces/{ws}/invites/{new string('0', 32)}", null, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(before, await EventCountAsync());

        var after = (await admin.Ok("GET", $"/v1/workspaces/{ws}/invites?minPosition={revoked}&limit=1")).EnumerateArray().ToList();
        Assert.Equal(mailedId, Assert.Single(after).GetProperty("inviteId").GetString());
        var response = await admin.SendAsync("GET", $"/v1/workspaces/{ws}/invites?limit=1");
        var next = response.Headers.GetValues("Link").Single().Split('<', '>')[1];
        var last = Assert.Single((await admin.Ok("GET", next)).EnumerateArray());
        Assert.Equal((linkId, "revoked"), (last.GetProperty("inviteId").GetString(), last.GetProperty("state").GetString()));
        Assert.NotEqual(JsonValueKind.Null, last.GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task An_expired_link_is_gone()
    {
        var admin = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(admin);
        var expiresAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var (_, url, _) = await InviteAsync(admin, ws, new { expiresAt });
        var bob = await RegisterAsync("bob");

        await Eventually.Until(() => DateTimeOffset.UtcNow > expiresAt, TimeSpan.FromSeconds(10), "the invite's expiry");

        await bob.Problem("POST", $"/v1/invites/{CodeOf(url)}/accept", null, HttpStatusCode.Gone, "invite_expired");
    }

    [Fact]
    public async Task Bad_codes_are_not_found_and_bad_invites_invalid_with_nothing_appended()
    {
        var admin = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(admin);
        var (_, url, _) = await InviteAsync(admin, ws, new { });
        var code = CodeOf(url);
        var bob = await RegisterAsync("bob");
        var before = await EventCountAsync();

        foreach (var bad in new[] { code + "x", code[..^1], code.Split('.')[0], "garbage", $"{new string('0', 32)}.{code.Split('.')[1]}" })
        {
            await bob.Problem("POST", $"/v1/invites/{Uri.EscapeDataString(bad)}/accept", null, HttpStatusCode.NotFound, "not_found");
        }
        foreach (var body in new object[]
                 {
                     new { email = "not an address" }, new { email = "x@example.test", maxUses = 3 }, new { maxUses = 0 },
                     new { maxUses = 1001 }, new { expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) }, new { expiresAt = DateTimeOffset.UtcNow.AddDays(31) },
                     "{\"maxUses\": \"many\"}",
                 })
        {
            await admin.Problem("POST", $"/v1/workspaces/{ws}/invites", body, HttpStatusCode.BadRequest, "invalid_request");
        }
        Assert.Equal(before, await EventCountAsync());
        await bob.Ok("POST", $"/v1/invites/{code}/accept"); // the real code still works after all that
    }
}
