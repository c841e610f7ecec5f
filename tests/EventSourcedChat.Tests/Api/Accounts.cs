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
}
