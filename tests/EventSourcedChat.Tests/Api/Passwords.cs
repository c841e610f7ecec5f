using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Password change, reset by mail and "log out everywhere", through the API, with the mail read back from the real
/// SMTP server (<see cref="MailBox"/>) and its link followed to the end.
/// </summary>
public sealed class Passwords(PostgresFixture db) : ApiTest(db)
{
    private const string Password = "correct horse battery";
    private const string NewPassword = "a brand new passphrase";

    private async Task<HttpClient> SignedInAsync(string email, string password = Password)
    {
        var login = await Anonymous().PostAsJsonAsync("/v1/auth/login", new { email, password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        return client;
    }

    private static async Task<HttpStatusCode> StatusOfAsync(HttpClient client) =>
        (await client.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode;

    private async Task<HttpStatusCode> LoginStatusAsync(string email, string password) =>
        (await Anonymous().PostAsJsonAsync("/v1/auth/login", new { email, password })).StatusCode;

    private async Task<long> OutboxCountAsync(string recipient)
    {
        await using var cmd = Db.DataSource.CreateCommand("select count(*) from ws_mail_outbox where lower(recipient) = lower($1)");
        cmd.Parameters.AddWithValue(recipient);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_reset_mail_s_link_sets_a_new_password_once_and_signs_out_every_session()
    {
        var ada = await RegisterAsync("ada");
        var otherDevice = await SignedInAsync(ada.Email);

        var asked = await Anonymous().PostAsJsonAsync("/v1/auth/password-reset", new { email = ada.Email.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        // Asked again at once: the same answer, and no second mail (one link per account per minute).
        Assert.Equal(HttpStatusCode.Accepted, (await Anonymous().PostAsJsonAsync("/v1/auth/password-reset", new { email = ada.Email })).StatusCode);

        var mail = Assert.Single(await MailBox.WaitAsync(ada.Email));
        Assert.Equal("Reset your EventSourcedChat password", mail.Subject);
        Assert.Contains("ada", mail.TextBody, StringComparison.Ordinal);
        var link = MailBox.LinkIn(mail, "http://127.0.0.1:5080/reset-password?token=");
        var token = MailBox.QueryOf(link, "token");
        Assert.Equal(1, await OutboxCountAsync(ada.Email));

        var confirmed = await Anonymous().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token, newPassword = NewPassword });

        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(ada.Client));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(otherDevice));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginStatusAsync(ada.Email, Password));
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(ada.Email, NewPassword));
        // The link works once.
        await Problems.AssertAsync(await Anonymous().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token, newPassword = "yet another passphrase" }),
            HttpStatusCode.Gone, "reset_expired");
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(ada.Email, NewPassword));
        // The sent mail's bodies (which held the link) are not kept.
        Assert.Equal((1, true, ""), await OutboxRowAsync(ada.Email));
    }

    /// <summary>The recipient's one outbox row once the worker marked it sent: attempts, sent, both bodies.</summary>
    private Task<(int Attempts, bool Sent, string Bodies)> OutboxRowAsync(string recipient) =>
        Eventually.Until(async () =>
        {
            await using var cmd = Db.DataSource.CreateCommand("select attempts, sent_at is not null, text_body || html_body from ws_mail_outbox where recipient = $1");
            cmd.Parameters.AddWithValue(recipient);
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            var row = (reader.GetInt32(0), reader.GetBoolean(1), reader.GetString(2));
            Assert.False(await reader.ReadAsync());
            return row;
        }, row => row.Item2, TimeSpan.FromSeconds(10), $"the mail to {recipient} to be marked sent");

    [Fact]
    public async Task An_unknown_address_gets_the_same_answer_and_nothing_is_stored_or_mailed()
    {
        var ada = await RegisterAsync("ada");
        var unknown = $"nobody-{Guid.NewGuid():N}@example.test";
        var before = await EventCountAsync();

        var forUnknown = await Anonymous().PostAsJsonAsync("/v1/auth/password-reset", new { email = unknown });
        var forKnown = await Anonymous().PostAsJsonAsync("/v1/auth/password-reset", new { email = ada.Email });

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (forUnknown.StatusCode, forKnown.StatusCode));
        Assert.Equal(await forKnown.Content.ReadAsStringAsync(), await forUnknown.Content.ReadAsStringAsync());
        Assert.Single(await MailBox.WaitAsync(ada.Email));
        Assert.Equal(before + 1, await EventCountAsync());
        Assert.Equal(0, await OutboxCountAsync(unknown));
        Assert.Empty(MailBox.To(unknown));
    }

    [Fact]
    public async Task A_forged_or_malformed_reset_token_is_reset_expired_and_a_missing_one_invalid()
    {
        var ada = await RegisterAsync("ada");
        await Anonymous().PostAsJsonAsync("/v1/auth/password-reset", new { email = ada.Email });
        var token = MailBox.QueryOf(MailBox.LinkIn(Assert.Single(await MailBox.WaitAsync(ada.Email)), "http"), "token");
        var before = await EventCountAsync();

        foreach (var forged in new[] { token + "x", token[..^1], $"{ada.UserId}.", "garbage", $"{new string('0', 32)}.{token.Split('.')[1]}" })
        {
            await Problems.AssertAsync(await Anonymous().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token = forged, newPassword = NewPassword }),
                HttpStatusCode.Gone, "reset_expired");
        }
        await Problems.AssertAsync(await Anonymous().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { newPassword = NewPassword }),
            HttpStatusCode.BadRequest, "invalid_request");
        await Problems.AssertAsync(await Anonymous().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token, newPassword = "short" }),
            HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(before, await EventCountAsync());
        // The real link still works after all that.
        Assert.Equal(HttpStatusCode.OK,
            (await Anonymous().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token, newPassword = NewPassword })).StatusCode);
    }

    [Fact]
    public async Task Changing_the_password_needs_the_current_one_and_signs_out_the_other_sessions()
    {
        var ada = await RegisterAsync("ada");
        var otherDevice = await SignedInAsync(ada.Email);
        var bob = await RegisterAsync("bob");
        var before = await EventCountAsync();

        await ada.Problem("POST", "/v1/auth/password", new { currentPassword = "not my password", newPassword = NewPassword }, HttpStatusCode.Forbidden, "wrong_password");
        await ada.Problem("POST", "/v1/auth/password", new { currentPassword = Password, newPassword = "short" }, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(before, await EventCountAsync());

        var changed = await ada.Ok("POST", "/v1/auth/password", new { currentPassword = Password, newPassword = NewPassword });

        Assert.True(changed.GetProperty("position").GetInt64() > 0);
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(ada.Client));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(otherDevice));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(bob.Client));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginStatusAsync(ada.Email, Password));
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(ada.Email, NewPassword));
    }

    [Fact]
    public async Task Logging_out_everywhere_ends_every_session_of_the_user_and_no_one_else_s()
    {
        var ada = await RegisterAsync("ada");
        var otherDevice = await SignedInAsync(ada.Email);
        var bob = await RegisterAsync("bob");

        Assert.Equal(HttpStatusCode.NoContent, (await ada.Client.PostAsync(new Uri("/v1/auth/logout-everywhere", UriKind.Relative), null)).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(ada.Client));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(otherDevice));
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await otherDevice.PostAsync(new Uri("/v1/gateway/negotiate?negotiateVersion=1", UriKind.Relative), null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(bob.Client));
        // Signing in again works, and only the new session is valid.
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(await SignedInAsync(ada.Email)));
    }

    [Fact]
    public async Task A_mail_the_SMTP_server_refuses_for_a_while_is_retried_and_delivered_once()
    {
        // The SMTP sink refuses a 'tempfail2-' address twice (451), then accepts it.
        var email = $"tempfail2-{Guid.NewGuid():N}@example.test";
        Assert.Equal(HttpStatusCode.Created,
            (await Anonymous().PostAsJsonAsync("/v1/auth/register", new { email, password = Password, displayName = "Flaky" })).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await Anonymous().PostAsJsonAsync("/v1/auth/password-reset", new { email })).StatusCode);

        Assert.Single(await MailBox.WaitAsync(email, timeout: TimeSpan.FromSeconds(30)));
        Assert.Equal((3, true, ""), await OutboxRowAsync(email));
        Assert.Single(MailBox.To(email));
    }
}
