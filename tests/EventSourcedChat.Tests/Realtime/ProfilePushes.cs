using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>
/// Profile and status changes reach, as <c>user.updated</c>, the connections of everyone sharing a workspace with the
/// person (once each, even when they share two) and the person's own, never anyone else's.
/// </summary>
public sealed class ProfilePushes(PostgresFixture db) : RealtimeTest(db)
{
    [Fact]
    public async Task A_co_worker_gets_each_change_once_in_order_and_a_stranger_none()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var eve = await RegisterAsync("eve");
        await WorkspaceAsync(ada, bob);
        await WorkspaceAsync(ada, bob); // bob shares two workspaces with ada: still one copy of each change
        await WorkspaceAsync(eve);
        await UntilDirectoryAsync();
        var adaHub = await ConnectAsync(ada);
        var bobHub = await ConnectAsync(bob);
        var eveHub = await ConnectAsync(eve);

        await ada.Ok("PATCH", "/v1/users/me", new { displayName = "Ada L.", title = "Analyst", timeZone = "Europe/London" });
        await ada.Ok("PUT", "/v1/users/me/status", new { emoji = "palm_tree", text = "On holiday" });
        await ada.Ok("DELETE", "/v1/users/me/status");
        await eve.Ok("PATCH", "/v1/users/me", new { title = "eve's sentinel" });
        await ada.Ok("PATCH", "/v1/users/me", new { title = "bob's sentinel" });

        var bobSees = await bobHub.WaitUntilAsync(e => Updates(e, ada.UserId).Count >= 4, what: "ada's four changes");
        var adaSees = await adaHub.WaitUntilAsync(e => Updates(e, ada.UserId).Count >= 4, what: "ada's own changes on her connection");
        foreach (var seen in new[] { bobSees, adaSees })
        {
            var updates = Updates(seen, ada.UserId);
            Assert.Equal(4, updates.Count);
            Assert.Equal("Ada L.", updates[0].GetProperty("displayName").GetString());
            Assert.Equal("Analyst", updates[0].GetProperty("title").GetString());
            Assert.Equal("Europe/London", updates[0].GetProperty("timeZone").GetString());
            Assert.Equal("palm_tree", updates[1].GetProperty("status").GetProperty("emoji").GetString());
            Assert.Equal("On holiday", updates[1].GetProperty("status").GetProperty("text").GetString());
            Assert.Equal(JsonValueKind.Null, updates[2].GetProperty("status").ValueKind);
        }

        // Delivery is in log order: once eve has her own later change she would already have had ada's first three, and
        // bob, with ada's last, would have had eve's.
        var eveSees = await eveHub.WaitUntilAsync(e => Updates(e, eve.UserId).Count >= 1, what: "eve's own change");
        Assert.Empty(Updates(eveSees, ada.UserId));
        Assert.Empty(Updates(bobSees, eve.UserId));
    }

    /// <summary>
    /// Someone added to a workspace while connected starts receiving its members' changes once their gateway has bound
    /// the workspace (on the internal <c>workspace.member_added</c> push): a change made in the instant before that
    /// binding is not delivered (documented), so ada changes her title until one arrives, within a bound.
    /// </summary>
    [Fact]
    public async Task Someone_added_to_a_workspace_while_connected_gets_its_members_later_changes()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada);
        await UntilDirectoryAsync();
        var bobHub = await ConnectAsync(bob);
        await ada.Ok("PATCH", "/v1/users/me", new { title = "before bob" });
        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var n = 0;
        await Eventually.Until(async () =>
        {
            await ada.Ok("PATCH", "/v1/users/me", new { title = $"after bob {++n}" });
            return Updates(bobHub.Events, ada.UserId).Count;
        }, count => count > 0, TimeSpan.FromSeconds(20), "a change of ada's reaching bob after he was added");
        Assert.DoesNotContain(Updates(bobHub.Events, ada.UserId), d => d.GetProperty("title").GetString() == "before bob");
    }

    [Fact]
    public async Task An_avatar_change_is_pushed_with_its_file_and_hash_and_no_url_and_its_removal_as_null()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        await UntilDirectoryAsync();
        var bobHub = await ConnectAsync(bob);
        using var store = Anonymous(); // the embedded store: its URLs are this host's
        var (fileId, uploaded) = await Uploads.UploadAsync(ada, store, ws, TestImages.Png(100, 100), "me.png", "image/png");
        await ada.Ok("PATCH", "/v1/users/me", new { avatarFileId = fileId });
        await ada.Ok("PATCH", "/v1/users/me", new { avatarFileId = "" });

        var seen = Updates(await bobHub.WaitUntilAsync(e => Updates(e, ada.UserId).Count >= 2, what: "ada's avatar set and removed"), ada.UserId);
        Assert.Equal(2, seen.Count);
        var avatar = seen[0].GetProperty("avatar");
        Assert.Equal(fileId, avatar.GetProperty("fileId").GetString());
        Assert.Equal(uploaded.GetProperty("sha256").GetString(), avatar.GetProperty("sha256").GetString());
        Assert.DoesNotContain("http", seen[0].GetRawText(), StringComparison.Ordinal); // URLs are signed per read, never pushed
        Assert.Equal(JsonValueKind.Null, seen[1].GetProperty("avatar").ValueKind);
        Assert.True(seen[1].GetProperty("position").GetInt64() > seen[0].GetProperty("position").GetInt64()); // for ?minPosition= reads
    }

    private static List<JsonElement> Updates(IEnumerable<JsonElement> events, string userId) =>
        [.. events.Where(e => e.GetProperty("type").GetString() == "user.updated")
            .Select(e => e.GetProperty("data"))
            .Where(d => d.GetProperty("userId").GetString() == userId)];
}
