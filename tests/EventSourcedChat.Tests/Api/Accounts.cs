using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

public sealed class Accounts(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task A_registered_user_logs_in_and_the_token_authenticates()
    {
        var ada = await RegisterAsync("ada");
        var login = await Anonymous().PostAsJsonAsync("/v1/auth/login", new { email = ada.Email.ToUpperInvariant(), password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ada.UserId, body.GetProperty("userId").GetString());

        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Registering_stores_a_user_registered_event_without_the_password()
    {
        var ada = await RegisterAsync("ada");
        await using var cmd = Db.DataSource.CreateCommand("select type, data::text from es_events where stream_id = $1");
        cmd.Parameters.AddWithValue($"user-{ada.UserId}");
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("user.registered.v1", reader.GetString(0));
        Assert.DoesNotContain("correct horse battery", reader.GetString(1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_email_registered_twice_in_any_case_is_name_taken()
    {
        var ada = await RegisterAsync("ada");
        var before = await EventCountAsync();

        var response = await Anonymous().PostAsJsonAsync("/v1/auth/register",
            new { email = ada.Email.ToUpperInvariant(), password = "another password", displayName = "Ada 2" });

        await Problems.AssertAsync(response, HttpStatusCode.Conflict, "name_taken");
        Assert.Equal(before, await EventCountAsync());
    }

    [Theory]
    [InlineData("""{"email":"not-an-email","password":"long enough pw","displayName":"x"}""")]
    [InlineData("""{"email":"a@b.c","password":"short","displayName":"x"}""")]
    [InlineData("""{"email":"a@b.c","password":"long enough pw","displayName":""}""")]
    [InlineData("""{"email":"a@b.c"}""")]
    [InlineData("""{"email":42,"password":"long enough pw","displayName":"x"}""")]
    [InlineData("""{"email":"a@b.c",""")]
    [InlineData("[]")]
    public async Task Bad_registrations_are_invalid_request(string body)
    {
        var response = await Anonymous().PostAsync(new Uri("/v1/auth/register", UriKind.Relative),
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await Problems.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(0, await EventCountAsync());
    }

    [Theory]
    [InlineData("ada@@example.test")]
    [InlineData("ada@example..test")]
    [InlineData("ada@-example.test")]
    [InlineData("ada@exa_mple.test")]
    [InlineData("\"ada\"@example.test")]
    [InlineData("ada(comment)@example.test")]
    [InlineData("ada@example.test.")]
    [InlineData("adä@example.test")]
    [InlineData("@example.test")]
    public async Task Email_addresses_a_browser_would_refuse_are_invalid_request(string email)
    {
        var response = await Anonymous().PostAsJsonAsync("/v1/auth/register", new { email, password = "correct horse battery", displayName = "Ada" });

        await Problems.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(0, await EventCountAsync());
    }

    [Fact]
    public async Task An_email_is_stored_in_lower_case_and_signs_in_in_any_case()
    {
        var email = $"Ada.Lovelace+{Guid.NewGuid():N}@Example.TEST";
        var registered = await Anonymous().PostAsJsonAsync("/v1/auth/register", new { email, password = "correct horse battery", displayName = "Ada" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var userId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("userId").GetString();

        await using var cmd = Db.DataSource.CreateCommand("select email from ws_users where user_id = $1");
        cmd.Parameters.AddWithValue(userId!);
        Assert.Equal(email.ToLowerInvariant(), await cmd.ExecuteScalarAsync());
        var login = await Anonymous().PostAsJsonAsync("/v1/auth/login", new { email = email.ToUpperInvariant(), password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task A_wrong_password_is_unauthenticated()
    {
        var ada = await RegisterAsync("ada");

        var response = await Anonymous().PostAsJsonAsync("/v1/auth/login", new { email = ada.Email, password = "wrong password" });

        await Problems.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("garbage")]
    public async Task A_missing_or_bad_token_is_unauthenticated(string? token)
    {
        var client = Anonymous();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var response = await client.PostAsJsonAsync("/v1/workspaces", new { name = "x" });

        await Problems.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Theory]
    [InlineData("password123")]
    [InlineData("12345678")]
    [InlineData("QWERTY123")]
    [InlineData("zzzzzzzzzz")]
    public async Task A_common_password_is_refused(string password)
    {
        var response = await Anonymous().PostAsJsonAsync("/v1/auth/register",
            new { email = $"ada-{Guid.NewGuid():N}@example.test", password, displayName = "Ada" });

        await Problems.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(0, await EventCountAsync());
    }

    [Fact]
    public async Task The_email_address_as_password_is_refused()
    {
        var email = $"ada-{Guid.NewGuid():N}@example.test";

        var response = await Anonymous().PostAsJsonAsync("/v1/auth/register", new { email, password = email, displayName = "Ada" });

        await Problems.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task After_too_many_failed_log_ins_an_account_is_refused_even_with_the_right_password_until_the_window_ends()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        Dictionary<string, string?> settings = new() { ["Login:MaxFailuresPerAccount"] = "3", ["Login:FailureWindowSeconds"] = "3" };
        await using var host = new ChatHost(Db, settings);
        await using var otherNode = new ChatHost(Db, settings);
        // Both nodes are started before the 3-second window opens: a host's start-up is not part of what is timed.
        _ = otherNode.Server;
        var client = host.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            await Problems.AssertAsync(await client.PostAsJsonAsync("/v1/auth/login", new { email = ada.Email, password = "wrong password" }),
                HttpStatusCode.Unauthorized, "unauthenticated");
        }

        var refused = await client.PostAsJsonAsync("/v1/auth/login", new { email = ada.Email, password = "correct horse battery" });

        await Problems.AssertAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 3);
        // Another account from the same address is not affected, and the throttle is shared by every node.
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/auth/login", new { email = bob.Email, password = "correct horse battery" })).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await otherNode.CreateClient().PostAsJsonAsync("/v1/auth/login",
            new { email = ada.Email, password = "correct horse battery" })).StatusCode);
        // Once the window is over, the right password works again.
        await Eventually.Until(
            async () => (await client.PostAsJsonAsync("/v1/auth/login", new { email = ada.Email, password = "correct horse battery" })).StatusCode,
            status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "the end of the failure window");
    }

    [Fact]
    public async Task Too_many_failed_log_ins_from_one_address_refuse_every_account_from_it()
    {
        var ada = await RegisterAsync("ada");
        await using var host = new ChatHost(Db, new() { ["Login:MaxFailuresPerAddress"] = "4" });
        var client = host.CreateClient();
        for (var i = 0; i < 4; i++)
        {
            await client.PostAsJsonAsync("/v1/auth/login", new { email = $"nobody{i}@example.test", password = "guess guess" });
        }

        var response = await client.PostAsJsonAsync("/v1/auth/login", new { email = ada.Email, password = "correct horse battery" });

        await Problems.AssertAsync(response, HttpStatusCode.TooManyRequests, "rate_limited");
    }

    [Fact]
    public async Task A_logged_out_token_is_refused_on_every_node_and_by_the_hub_while_other_sessions_go_on()
    {
        var ada = await RegisterAsync("ada");
        var login = await (await Anonymous().PostAsJsonAsync("/v1/auth/login", new { email = ada.Email, password = "correct horse battery" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var otherDevice = Anonymous();
        otherDevice.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login.GetProperty("token").GetString());
        await using var secondNode = new ChatHost(Db);
        var onSecondNode = secondNode.CreateClient();
        onSecondNode.DefaultRequestHeaders.Authorization = ada.Client.DefaultRequestHeaders.Authorization;
        Assert.Equal(HttpStatusCode.OK, (await onSecondNode.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await ada.Client.PostAsync(new Uri("/v1/auth/logout", UriKind.Relative), null)).StatusCode);

        await Problems.AssertAsync(await ada.Client.GetAsync(new Uri("/v1/workspaces", UriKind.Relative)), HttpStatusCode.Unauthorized, "unauthenticated");
        await Problems.AssertAsync(await onSecondNode.GetAsync(new Uri("/v1/workspaces", UriKind.Relative)), HttpStatusCode.Unauthorized, "unauthenticated");
        var negotiate = await onSecondNode.PostAsync(new Uri("/v1/gateway/negotiate?negotiateVersion=1", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await otherDevice.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);
    }
}
