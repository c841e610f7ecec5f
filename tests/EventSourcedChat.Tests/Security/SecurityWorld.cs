using EventSourcedChat.Contracts.Files;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventSourcedChat.Tests.Security;

/// <summary>Who calls: the kinds of caller of the authorization matrix.</summary>
public enum Caller
{
    Anonymous,
    BadToken,
    ExpiredToken,
    LoggedOutToken,
    /// <summary>The own token of a member that an instance administrator deactivated: refused like a logged-out one.</summary>
    DeactivatedUser,
    OtherWorkspaceUser,
    NonMember,
    RemovedMember,
    Member,
    ChannelCreator,
    WorkspaceAdmin,
    Auditor,
    /// <summary>A member of the world's public and private channels whom the workspace admin then removed from the workspace.</summary>
    RemovedFromWorkspace,
}

/// <summary>
/// A channel with one of every kind of caller: the creator, a member (author of <see cref="Seq"/>, which has a reply
/// and a reaction), the watcher (a member whose hub connection checks what is pushed), a member removed by the creator.
/// </summary>
/// <param name="FileId">The file the member's message <see cref="Seq"/> carries (<see cref="SecurityWorld.SceneFileName"/>).</param>
public sealed record Scene(string ChannelId, bool IsPrivate, long Seq, long Position, string FileId = "");

/// <summary>
/// The users, tokens and channels the security tests share: built once per test class (on a freshly reset database)
/// rather than once per cell, so that the matrix of several hundred cells runs in a couple of minutes.
/// </summary>
public sealed class SecurityWorld : IAsyncDisposable
{
    public const string Password = "correct horse battery";

    private SecurityWorld(ChatHost host, PostgresFixture db) => (Host, Db) = (host, db);

    public ChatHost Host { get; }
    public string WorkspaceId { get; private set; } = "";
    public string OtherWorkspaceId { get; private set; } = "";
    public TestUser Admin { get; private set; } = null!;
    public TestUser Creator { get; private set; } = null!;
    public TestUser Member { get; private set; } = null!;
    public TestUser Removed { get; private set; } = null!;
    public TestUser NonMember { get; private set; } = null!;
    public TestUser Auditor { get; private set; } = null!;
    public TestUser Watcher { get; private set; } = null!;
    public TestUser Spare { get; private set; } = null!;

    /// <summary>The token of the spare's notification unsubscribe link.</summary>
    public string UnsubscribeToken { get; private set; } = null!;
    public TestUser Other { get; private set; } = null!;

    /// <summary>Was in the public and private scenes (and posted there), then removed from the workspace by the admin.</summary>
    public TestUser Expelled { get; private set; } = null!;

    /// <summary>A member of the workspace and of the scenes, deactivated by an instance administrator; their token is kept here.</summary>
    public TestUser Deactivated { get; private set; } = null!;

    /// <summary>
    /// A user of no workspace whose account the password and session endpoints act on (change, reset, log out
    /// everywhere): nobody else signs in as them, and their own token is never used.
    /// </summary>
    public TestUser Account { get; private set; } = null!;

    /// <summary>The token of a live reset link of <see cref="Account"/>, read from the mail the SMTP server received.</summary>
    public string ResetToken { get; private set; } = "";
    public string ExpiredToken { get; private set; } = "";

    /// <summary>An invite of the workspace that the admin made and revoked: its id and its code (accepting it is 410 <c>invite_revoked</c>).</summary>
    public string RevokedInviteId { get; private set; } = "";
    public string RevokedInviteCode { get; private set; } = "";

    /// <summary>The code of a live shareable link to the workspace (the fuzzer's valid accept: <see cref="Account"/> joins with it).</summary>
    public string LiveInviteCode { get; private set; } = "";
    public string LoggedOutToken { get; private set; } = "";
    public Scene Public { get; private set; } = null!;
    public Scene Private { get; private set; } = null!;

    /// <summary>The watcher's hub connection: a member of every scene, it must see nothing of rejected commands.</summary>
    public HubClient WatcherHub { get; private set; } = null!;

    /// <summary>The creator's hub connection: types as a marker after a refused <c>Typing</c>.</summary>
    public HubClient CreatorHub { get; private set; } = null!;

    /// <summary>A PNG the member uploaded and completed, never shared: only the member may make it their avatar.</summary>
    public string AvatarFileId { get; private set; } = "";

    /// <summary>The log position once the world was built.</summary>
    public long Position { get; private set; }

    public static async Task<SecurityWorld> BuildAsync(ChatHost host, PostgresFixture db)
    {
        var w = new SecurityWorld(host, db);
        w.Admin = await w.RegisterAsync("admin");
        w.Creator = await w.RegisterAsync("creator");
        w.Member = await w.RegisterAsync("member");
        w.Removed = await w.RegisterAsync("removed");
        w.NonMember = await w.RegisterAsync("nonmember");
        w.Auditor = await w.RegisterAsync("auditor");
        w.Watcher = await w.RegisterAsync("watcher");
        w.Spare = await w.RegisterAsync("spare");
        w.Other = await w.RegisterAsync("other");
        w.Account = await w.RegisterAsync("account");
        w.Expelled = await w.RegisterAsync("expelled");
        w.Deactivated = await w.RegisterAsync("deactivated");
        w.WorkspaceId = (await w.Admin.Ok("POST", "/v1/workspaces", new { name = "Acme" }, HttpStatusCode.Created)).GetProperty("workspaceId").GetString()!;
        foreach (var user in new[] { w.Creator, w.Member, w.Removed, w.NonMember, w.Watcher, w.Spare, w.Expelled, w.Deactivated })
        {
            await w.Admin.Ok("POST", $"/v1/workspaces/{w.WorkspaceId}/members", new { userId = user.UserId });
        }
        await w.Admin.Ok("POST", $"/v1/workspaces/{w.WorkspaceId}/members", new { userId = w.Auditor.UserId, role = "auditor" });
        w.OtherWorkspaceId = (await w.Other.Ok("POST", "/v1/workspaces", new { name = "Elsewhere" }, HttpStatusCode.Created)).GetProperty("workspaceId").GetString()!;
        var revoked = await w.Admin.Ok("POST", $"/v1/workspaces/{w.WorkspaceId}/invites", new { maxUses = 5 }, HttpStatusCode.Created);
        (w.RevokedInviteId, w.RevokedInviteCode) = (revoked.GetProperty("inviteId").GetString()!, MailBox.QueryOf(revoked.GetProperty("url").GetString()!, "code"));
        await w.Admin.Ok("DELETE", $"/v1/workspaces/{w.WorkspaceId}/invites/{w.RevokedInviteId}");
        w.LiveInviteCode = MailBox.QueryOf((await w.Admin.Ok("POST", $"/v1/workspaces/{w.WorkspaceId}/invites", new { maxUses = 5 }, HttpStatusCode.Created))
            .GetProperty("url").GetString()!, "code");

        w.ExpiredToken = w.IssueExpiredToken(w.Member.UserId);
        w.LoggedOutToken = await w.LoginAsync(w.Member);
        var logout = await w.ClientWith(w.LoggedOutToken).PostAsync("/v1/auth/logout", null);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        var reset = await host.CreateClient().PostAsJsonAsync("/v1/auth/password-reset", new { email = w.Account.Email });
        Assert.Equal(HttpStatusCode.Accepted, reset.StatusCode);
        w.ResetToken = MailBox.QueryOf(MailBox.LinkIn(Assert.Single(await MailBox.WaitAsync(w.Account.Email)), "http"), "token");

        // The spare's unsubscribe link as a notification mail carries it (made by the app's own link maker).
        w.UnsubscribeToken = MailBox.QueryOf(host.Services.GetRequiredService<Commands.Notifications.UnsubscribeLinks>().LinkFor(w.Spare.UserId), "token");

        using (var store = host.CreateClient())
        {
            w.AvatarFileId = (await Uploads.UploadAsync(w.Member, store, w.WorkspaceId, TestImages.Png(64, 64), "face.png", "image/png")).FileId;
        }

        w.WatcherHub = await HubClient.ConnectAsync(host, w.Watcher);
        w.CreatorHub = await HubClient.ConnectAsync(host, w.Creator);
        w.Public = await w.SceneAsync(isPrivate: false);
        w.Private = await w.SceneAsync(isPrivate: true);
        w.Position = await w.ExpelAndDeactivateAsync();
        return w;
    }

    /// <summary>
    /// The expelled user and the deactivated one come into both scenes and post there; then the admin removes the first
    /// from the workspace and an instance administrator (on a node of its own whose settings name the admin) deactivates
    /// the second. Answers the log position once the read models and the watcher have it all.
    /// </summary>
    private async Task<long> ExpelAndDeactivateAsync()
    {
        foreach (var user in new[] { Expelled, Deactivated })
        {
            await user.Ok("POST", $"/v1/channels/{Public.ChannelId}/join");
            await Creator.Ok("POST", $"/v1/channels/{Private.ChannelId}/members", new { userId = user.UserId });
            await user.Ok("POST", $"/v1/channels/{Private.ChannelId}/messages", new { text = "before I go" }, HttpStatusCode.Created);
        }
        // The answer is the position of the last member.left, a channel event the watcher gets; the deactivation is on the
        // user's stream (never pushed to the watcher) and comes after it.
        var left = (await Admin.Ok("DELETE", $"/v1/workspaces/{WorkspaceId}/members/{Expelled.UserId}")).GetProperty("position").GetInt64();
        long position;
        await using (var adminNode = new ChatHost(Db, new() { ["Roles"] = "api", ["Admins"] = Admin.UserId }))
        {
            position = (await Admin.On(adminNode).Ok("POST", $"/v1/admin/users/{Deactivated.UserId}/deactivate")).GetProperty("position").GetInt64();
        }
        await CaughtUpAsync(position);
        await WatcherHub.WaitUntilAsync(e => e.Any(x => x.TryGetProperty("position", out var p) && p.ValueKind == JsonValueKind.Number && p.GetInt64() >= left),
            TimeSpan.FromSeconds(20), $"the watcher to receive the expulsion's events up to {left}");
        return position;
    }

    private async Task<TestUser> RegisterAsync(string name)
    {
        var client = Host.CreateClient();
        var email = $"{name}-{Guid.NewGuid():N}@example.test";
        var response = await client.PostAsJsonAsync("/v1/auth/register", new { email, password = Password, displayName = name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.GetProperty("token").GetString());
        return new TestUser(body.GetProperty("userId").GetString()!, email, client);
    }

    /// <summary>A new token of <paramref name="user"/> (a log-in), leaving the user's own token valid.</summary>
    public async Task<string> LoginAsync(TestUser user)
    {
        using var client = Host.CreateClient();
        var response = await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>A token signed by the host's own key for a real user, whose lifetime ended an hour ago.</summary>
    private string IssueExpiredToken(string userId)
    {
        var bearer = Host.Services.GetRequiredService<IOptionsMonitor<BearerTokenOptions>>().Get(BearerTokenDefaults.AuthenticationScheme);
        var identity = new ClaimsIdentity(
            [new Claim("sub", userId), new Claim("jti", Guid.NewGuid().ToString())], BearerTokenDefaults.AuthenticationScheme);
        var now = DateTimeOffset.UtcNow;
        var properties = new AuthenticationProperties { IssuedUtc = now.AddDays(-31), ExpiresUtc = now.AddHours(-1) };
        return bearer.BearerTokenProtector.Protect(
            new AuthenticationTicket(new ClaimsPrincipal(identity), properties, BearerTokenDefaults.AuthenticationScheme));
    }

    /// <summary>A client sending <paramref name="token"/> (none when null).</summary>
    public HttpClient ClientWith(string? token)
    {
        var client = Host.CreateClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    /// <summary>The user behind an authenticated caller kind (null for the unauthenticated kinds).</summary>
    public TestUser? UserOf(Caller caller) => caller switch
    {
        Caller.OtherWorkspaceUser => Other,
        Caller.NonMember => NonMember,
        Caller.RemovedMember => Removed,
        Caller.Member => Member,
        Caller.ChannelCreator => Creator,
        Caller.WorkspaceAdmin => Admin,
        Caller.Auditor => Auditor,
        Caller.RemovedFromWorkspace => Expelled,
        _ => null,
    };

    /// <summary>The token the caller sends: none, garbage, a tampered one, an expired one, a revoked one, or the user's own.</summary>
    public string? TokenOf(Caller caller) => caller switch
    {
        Caller.Anonymous => null,
        Caller.BadToken => TokenOfUser(Member)[..^8] + "AAAAAAAA",
        Caller.ExpiredToken => ExpiredToken,
        Caller.LoggedOutToken => LoggedOutToken,
        Caller.DeactivatedUser => TokenOfUser(Deactivated),
        _ => TokenOfUser(UserOf(caller)!),
    };

    public static string TokenOfUser(TestUser user) => user.Client.DefaultRequestHeaders.Authorization!.Parameter!;

    /// <summary>
    /// A fresh public or private channel: the creator makes it, the member, the watcher and the to-be-removed member
    /// come in (join or invitation), the creator removes the latter; the member posts, the creator replies and reacts.
    /// Waits until the read models and the watcher's connection have it all.
    /// </summary>
    public async Task<Scene> SceneAsync(bool isPrivate)
    {
        var ch = (await Creator.Ok("POST", $"/v1/workspaces/{WorkspaceId}/channels",
            new { name = $"c{Guid.NewGuid():N}"[..20], isPrivate }, HttpStatusCode.Created)).GetProperty("channelId").GetString()!;
        foreach (var user in new[] { Member, Watcher, Removed })
        {
            if (isPrivate)
            {
                await Creator.Ok("POST", $"/v1/channels/{ch}/members", new { userId = user.UserId });
            }
            else
            {
                await user.Ok("POST", $"/v1/channels/{ch}/join");
            }
        }
        await Creator.Ok("DELETE", $"/v1/channels/{ch}/members/{Removed.UserId}");
        var (fileId, _) = await Uploads.UploadAsync(Member, Host.CreateClient(), WorkspaceId, "scene secret file"u8.ToArray(), SceneFileName);
        var seq = (await Member.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "scene secret", files = new[] { fileId } }, HttpStatusCode.Created))
            .GetProperty("seq").GetInt64();
        await Creator.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "a reply", threadRootSeq = seq }, HttpStatusCode.Created);
        var position = (await Creator.Ok("PUT", $"/v1/channels/{ch}/messages/{seq}/reactions/eyes")).GetProperty("position").GetInt64();
        await CaughtUpAsync(position);
        await WatcherHub.WaitUntilAsync(e => e.Any(x => x.TryGetProperty("position", out var p) && p.ValueKind == JsonValueKind.Number && p.GetInt64() >= position),
            TimeSpan.FromSeconds(20), $"the watcher to receive the scene's events up to {position}");
        return new Scene(ch, isPrivate, seq, position, fileId);
    }

    /// <summary>The name of each scene's file (plain text, so it downloads as an attachment).</summary>
    public const string SceneFileName = "scene.txt";

    /// <summary>
    /// A URL of the embedded object store for the public scene's file, signed as the store signs them: a download
    /// (<c>GET</c>) or an upload of 10 bytes (<c>PUT</c>), valid for a minute or expired a second ago.
    /// </summary>
    public string ObjectUrl(string method, bool expired)
    {
        var store = Host.Services.GetRequiredService<IObjectStore>();
        var expiresAt = expired ? DateTimeOffset.UtcNow.AddSeconds(-1) : DateTimeOffset.UtcNow.AddMinutes(1);
        return method == "PUT"
            ? store.SignUpload(Public.FileId, 10, expiresAt).Url
            : store.SignDownload(Public.FileId, new FileDownload(SceneFileName, "text/plain"), expiresAt);
    }

    /// <summary>New channels of the other workspace, a public one and a private one with a message: ids the caller may not see.</summary>
    public async Task<(string Public, string Private)> ForeignChannelsAsync()
    {
        var open = (await Other.Ok("POST", $"/v1/workspaces/{OtherWorkspaceId}/channels",
            new { name = $"f{Guid.NewGuid():N}"[..20] }, HttpStatusCode.Created)).GetProperty("channelId").GetString()!;
        var closed = (await Other.Ok("POST", $"/v1/workspaces/{OtherWorkspaceId}/channels",
            new { name = $"f{Guid.NewGuid():N}"[..20], isPrivate = true }, HttpStatusCode.Created)).GetProperty("channelId").GetString()!;
        await Other.Ok("POST", $"/v1/channels/{closed}/messages", new { text = "foreign secret" }, HttpStatusCode.Created);
        return (open, closed);
    }

    /// <summary>Waits until the directory, history and search projections applied <paramref name="position"/>.</summary>
    public async Task CaughtUpAsync(long position) =>
        await Eventually.Until(
            () => ReadYourWrites.CaughtUpAsync(Db.DataSource, position, [ChannelAccess.Directory, "projection:history", "projection:search", "projection:unread"], default),
            ok => ok, TimeSpan.FromSeconds(20), $"the projections to reach {position}");

    public PostgresFixture Db { get; }

    public async ValueTask DisposeAsync()
    {
        if (WatcherHub is not null)
        {
            await WatcherHub.DisposeAsync();
        }
        if (CreatorHub is not null)
        {
            await CreatorHub.DisposeAsync();
        }
    }
}
