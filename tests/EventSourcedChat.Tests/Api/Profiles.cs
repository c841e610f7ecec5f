using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Profiles through the real host: <c>PATCH /v1/users/me</c>, <c>PUT</c>/<c>DELETE /v1/users/me/status</c>,
/// <c>GET /v1/users/me</c> and <c>/v1/users/{id}</c>. Reads pass the command's position as <c>?minPosition=</c>.
/// </summary>
public sealed class Profiles(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task A_profile_change_is_answered_and_read_by_co_workers_and_the_members_list()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var ch = await ChannelAsync(ada, ws);

        var answer = await ada.Ok("PATCH", "/v1/users/me", new { displayName = " Ada Lovelace ", title = "Analyst", timeZone = "Europe/London" });
        Assert.Equal(("Ada Lovelace", "Analyst", "Europe/London"),
            (Text(answer, "displayName"), Text(answer, "title"), Text(answer, "timeZone")));
        var position = answer.GetProperty("position").GetInt64();

        var seen = await bob.Ok("GET", $"/v1/users/{ada.UserId}?minPosition={position}");
        Assert.Equal((ada.UserId, "Ada Lovelace", "Analyst", "Europe/London"),
            (Text(seen, "userId"), Text(seen, "displayName"), Text(seen, "title"), Text(seen, "timeZone")));
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("status").ValueKind);
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("avatarUrl").ValueKind);
        Assert.True(seen.TryGetProperty("presence", out _));
        Assert.Equal("Ada Lovelace", Text(await ada.Ok("GET", $"/v1/users/me?minPosition={position}"), "displayName"));
        var members = await bob.Ok("GET", $"/v1/channels/{ch}/members?minPosition={position}");
        Assert.Contains(members.EnumerateArray(), m => Text(m, "displayName") == "Ada Lovelace");

        // Empty clears; a field left out stays.
        var cleared = await ada.Ok("PATCH", "/v1/users/me", new { title = "" });
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("title").ValueKind);
        Assert.Equal("Europe/London", Text(cleared, "timeZone"));
    }

    [Fact]
    public async Task The_same_profile_again_appends_nothing()
    {
        var ada = await RegisterAsync("ada");
        var first = await ada.Ok("PATCH", "/v1/users/me", new { title = "Analyst" });
        var count = await EventCountAsync();
        var again = await ada.Ok("PATCH", "/v1/users/me", new { title = "Analyst" });
        Assert.Equal(count, await EventCountAsync());
        Assert.Equal(first.GetProperty("position").GetInt64(), again.GetProperty("position").GetInt64());
    }

    public static TheoryData<string, string> BadProfiles() => new()
    {
        { "too long display name", JsonSerializer.Serialize(new { displayName = new string('n', 81) }) },
        { "empty display name", """{"displayName":"  "}""" },
        { "too long title", JsonSerializer.Serialize(new { title = new string('t', 101) }) },
        { "bad time zone", """{"timeZone":"Mars/Olympus_Mons"}""" },
        { "time zone not a string", """{"timeZone":3}""" },
        { "avatar", """{"avatarFileId":"0123"}""" },
        { "not JSON", "{" },
    };

    [Theory]
    [MemberData(nameof(BadProfiles))]
    public async Task A_bad_profile_is_a_problem_and_writes_nothing(string why, string body)
    {
        var ada = await RegisterAsync("ada");
        var count = await EventCountAsync();
        var problem = await ada.Problem("PATCH", "/v1/users/me", body, HttpStatusCode.BadRequest, "invalid_request");
        Assert.False(string.IsNullOrEmpty(Text(problem, "detail")), why);
        Assert.Equal(count, await EventCountAsync());
    }

    public static TheoryData<string, string> BadStatuses() => new()
    {
        { "expiry in the past", JsonSerializer.Serialize(new { emoji = "palm_tree", text = "away", expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) }) },
        { "too long text", JsonSerializer.Serialize(new { emoji = "palm_tree", text = new string('t', 101) }) },
        { "nothing to show", """{"emoji":"","text":" "}""" },
        { "emoji with a space", """{"emoji":"palm tree","text":"away"}""" },
        { "expiry not a time", """{"emoji":"x","expiresAt":"tomorrow"}""" },
    };

    [Theory]
    [MemberData(nameof(BadStatuses))]
    public async Task A_bad_status_is_a_problem_and_writes_nothing(string why, string body)
    {
        var ada = await RegisterAsync("ada");
        var count = await EventCountAsync();
        var problem = await ada.Problem("PUT", "/v1/users/me/status", body, HttpStatusCode.BadRequest, "invalid_request");
        Assert.False(string.IsNullOrEmpty(Text(problem, "detail")), why);
        Assert.Equal(count, await EventCountAsync());
    }

    [Fact]
    public async Task A_status_is_set_read_and_cleared()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        await WorkspaceAsync(ada, bob);
        var set = await ada.Ok("PUT", "/v1/users/me/status", new { emoji = "palm_tree", text = "On holiday", expiresAt = DateTimeOffset.UtcNow.AddDays(2) });
        var seen = await bob.Ok("GET", $"/v1/users/{ada.UserId}?minPosition={set.GetProperty("position").GetInt64()}");
        Assert.Equal(("palm_tree", "On holiday"), (Text(seen.GetProperty("status"), "emoji"), Text(seen.GetProperty("status"), "text")));
        var cleared = await ada.Ok("DELETE", "/v1/users/me/status");
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("status").ValueKind);
        var after = await bob.Ok("GET", $"/v1/users/{ada.UserId}?minPosition={cleared.GetProperty("position").GetInt64()}");
        Assert.Equal(JsonValueKind.Null, after.GetProperty("status").ValueKind);
        var count = await EventCountAsync();
        await ada.Ok("DELETE", "/v1/users/me/status"); // nothing to clear: nothing appended
        Assert.Equal(count, await EventCountAsync());
    }

    [Fact]
    public async Task A_status_past_its_expiry_reads_as_none_without_any_write()
    {
        var ada = await RegisterAsync("ada");
        var expiresAt = DateTimeOffset.UtcNow.AddSeconds(6);
        var set = await ada.Ok("PUT", "/v1/users/me/status", new { emoji = "coffee", text = "Back in a bit", expiresAt });
        var position = set.GetProperty("position").GetInt64();
        var before = await ada.Ok("GET", $"/v1/users/me?minPosition={position}");
        if (DateTimeOffset.UtcNow < expiresAt) // answered before the expiry (on a loaded machine the read can take longer)
        {
            Assert.Equal("coffee", Text(before.GetProperty("status"), "emoji"));
        }
        var count = await EventCountAsync();
        await Eventually.Until(async () => (await ada.Ok("GET", "/v1/users/me")).GetProperty("status").ValueKind,
            kind => kind == JsonValueKind.Null, TimeSpan.FromSeconds(30), "the status to expire");
        Assert.True(DateTimeOffset.UtcNow >= expiresAt);
        Assert.Equal(count, await EventCountAsync());
        await using var cmd = Db.DataSource.CreateCommand("select status_emoji from rm_profiles.profiles where user_id = $1");
        cmd.Parameters.AddWithValue(ada.UserId);
        Assert.Equal("coffee", await cmd.ExecuteScalarAsync()); // the row is as set: the expiry is computed when read
    }

    [Fact]
    public async Task A_stranger_s_profile_is_not_found()
    {
        var ada = await RegisterAsync("ada");
        var eve = await RegisterAsync("eve");
        await WorkspaceAsync(ada);
        await WorkspaceAsync(eve);
        await ada.Problem("GET", $"/v1/users/{eve.UserId}", null, HttpStatusCode.NotFound, "not_found");
    }

    private static string? Text(JsonElement e, string name) => e.GetProperty(name).GetString();
}
