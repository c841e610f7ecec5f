using System.Net;
using System.Net.Http.Json;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Instance administrators (the <c>Admins</c> setting) deactivate and reactivate users: every session revoked, signing
/// in refused with <c>account_deactivated</c> until reactivated, what they wrote kept, profiles flagged.
/// </summary>
public sealed class Deactivation(PostgresFixture db) : ApiTest(db)
{
    private async Task<HttpResponseMessage> LoginAsync(TestUser user, string password = "correct horse battery") =>
        await Anonymous().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password });

    [Fact]
    public async Task A_deactivated_user_is_signed_out_everywhere_and_refused_until_reactivated_and_their_messages_stay()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        await bob.Ok("POST", $"/v1/channels/{general}/join");
        await bob.Ok("POST", $"/v1/channels/{general}/messages", new { text = "bob was here" }, HttpStatusCode.Created);
        var bobElsewhere = (await LoginAsync(bob)).StatusCode;
        Assert.Equal(HttpStatusCode.OK, bobElsewhere);
        await using var adminNode = new ChatHost(Db, new() { ["Roles"] = "api", ["Admins"] = ada.UserId });
        var admin = ada.On(adminNode);

        await bob.On(adminNode).Problem("POST", $"/v1/admin/users/{ada.UserId}/deactivate", null, HttpStatusCode.Forbidden, "forbidden");
        await ada.Problem("POST", $"/v1/admin/users/{bob.UserId}/deactivate", null, HttpStatusCode.Forbidden, "forbidden"); // not an admin on this node's settings
        var deactivated = (await admin.Ok("POST", $"/v1/admin/users/{bob.UserId}/deactivate")).GetProperty("position").GetInt64();

        // Refused at once on the node that answered, and within the revocation bound on the other one.
        await Problems.AssertAsync(await bob.On(adminNode).SendAsync("GET", "/v1/workspaces"), HttpStatusCode.Unauthorized, "unauthenticated");
        await Eventually.Until(async () => (await bob.SendAsync("GET", "/v1/workspaces")).StatusCode,
            status => status == HttpStatusCode.Unauthorized, RevokedTokens.TrustFor * 5, "the other node to refuse bob's token");
        await Problems.AssertAsync(await LoginAsync(bob), HttpStatusCode.Forbidden, "account_deactivated");
        // A wrong password learns nothing of the account's state.
        await Problems.AssertAsync(await LoginAsync(bob, "not his password at all"), HttpStatusCode.Unauthorized, "unauthenticated");

        var profile = await ada.Ok("GET", $"/v1/users/{bob.UserId}?minPosition={deactivated}");
        Assert.True(profile.GetProperty("deactivated").GetBoolean());
        var members = await ada.Ok("GET", $"/v1/channels/{general}/members?minPosition={deactivated}");
        Assert.True(members.EnumerateArray().Single(m => m.GetProperty("userId").GetString() == bob.UserId).GetProperty("deactivated").GetBoolean());
        Assert.False(members.EnumerateArray().Single(m => m.GetProperty("userId").GetString() == ada.UserId).GetProperty("deactivated").GetBoolean());
        var history = await ada.Ok("GET", $"/v1/channels/{general}/messages?minPosition={deactivated}");
        Assert.Contains(history.GetProperty("messages").EnumerateArray(), m => m.GetProperty("text").GetString() == "bob was here");

        // Deactivating again changes nothing; reactivated, bob signs in again, but the old sessions stay revoked.
        var events = await EventCountAsync();
        await admin.Ok("POST", $"/v1/admin/users/{bob.UserId}/deactivate");
        Assert.Equal(events, await EventCountAsync());
        var reactivated = (await admin.Ok("POST", $"/v1/admin/users/{bob.UserId}/reactivate")).GetProperty("position").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(bob)).StatusCode);
        await Problems.AssertAsync(await bob.SendAsync("GET", "/v1/workspaces"), HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.False((await ada.Ok("GET", $"/v1/users/{bob.UserId}?minPosition={reactivated}")).GetProperty("deactivated").GetBoolean());
    }

    [Fact]
    public async Task An_admin_cannot_deactivate_themselves_nor_an_unknown_user()
    {
        var ada = await RegisterAsync("ada");
        await using var adminNode = new ChatHost(Db, new() { ["Roles"] = "api", ["Admins"] = ada.UserId });
        var admin = ada.On(adminNode);
        var before = await EventCountAsync();
        await admin.Problem("POST", $"/v1/admin/users/{ada.UserId}/deactivate", null, HttpStatusCode.BadRequest, "invalid_request");
        await admin.Problem("POST", $"/v1/admin/users/{new string('0', 32)}/deactivate", null, HttpStatusCode.NotFound, "not_found");
        await admin.Problem("POST", "/v1/admin/users/nobody/reactivate", null, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(before, await EventCountAsync());
    }
}
