using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Security;

/// <summary>
/// Every REST endpoint and hub method against every kind of caller, one test per cell, with the status API.md and
/// docs/api.md give it. A refused cell must answer problem+json with the documented code, append nothing to the log
/// and push nothing to a member's connection.
/// </summary>
public sealed class AuthorizationMatrix(PostgresFixture db) : SecurityTest(db)
{
    /// <summary>
    /// One endpoint. <c>Path</c> placeholders: {ws} the workspace, {ch} the scene's channel, {seq} the member's message,
    /// {member} the member's user id, {other} the other workspace's user. <c>Expected</c>: the answer of each authenticated caller, in the order other
    /// workspace, non-member, removed member, member, channel creator, workspace admin, auditor (a user removed from the
    /// workspace gets the other workspace user's answer; a deactivated user's token is refused as a logged-out one); <c>403c</c> is 403
    /// <c>not_in_channel</c>, 403 is <c>forbidden</c>, 404 <c>not_found</c>, <c>410r</c> 410 <c>reset_expired</c>, 400 <c>invalid_request</c>, <c>410i</c> 410 <c>invite_revoked</c>. The unauthenticated kinds get 401
    /// <c>unauthenticated</c> unless <c>Open</c> (register, log-in, health), when they get the member's answer.
    /// <c>Mutates</c>: an accepted call changes the scene, so each such cell gets a fresh one.
    /// </summary>
    private sealed record Endpoint(string Method, string Path, string Expected, bool Mutates = false, bool Open = false, Func<SecurityWorld, Scene?, object?>? Body = null,
        string? Pattern = null)
    {
        public bool OnChannel => Path.Contains("{ch}", StringComparison.Ordinal) || Path.Contains("{file}", StringComparison.Ordinal);

        /// <summary>The endpoint's route as the app's route table names it (<c>METHOD pattern</c>): what <see cref="EndpointCoverage"/> compares.</summary>
        public string Route => $"{Method} " + (Pattern ?? Path.Split('?')[0]
            .Replace("{ws}", "{workspaceId}", StringComparison.Ordinal)
            .Replace("{ch}", "{channelId}", StringComparison.Ordinal)
            .Replace("{seq}", "{seq:long}", StringComparison.Ordinal)
            .Replace("{member}", "{userId}", StringComparison.Ordinal)
            .Replace("{file}", "{fileId}", StringComparison.Ordinal));
    }

    /// <summary>The routes the matrix covers: every REST endpoint's, and the hub's (its <c>connect</c> cells).</summary>
    internal static IEnumerable<string> Routes => Endpoints.Values.Select(e => e.Route).Append(FuzzTargets.HubRoute).Distinct();

    /// <summary>The hub methods the matrix covers.</summary>
    internal static IEnumerable<string> HubMethodNames => HubMethods.Keys.Select(k => k.Split(' ')[0]).Where(m => m != "connect").Distinct();

    private const string AllOk = "200 200 200 200 200 200 200";
    private const string WorkspaceOk = "404 200 200 200 200 200 200";
    private const string PublicVisible = "404 200 200 200 200 200 200";
    private const string PublicMembers = "404 403c 403c 200 200 403c 403c";
    private const string PublicCreatorOrAdmin = "404 403 403 403 200 200 403";
    private const string PrivateMembers = "404 404 404 200 200 404 404";
    private const string PrivateCreator = "404 404 404 403 200 404 404";
    private const string Auditors = "404 404 404 404 404 200 200";
    private const string ChannelMembersOnly = "404 404 404 200 200 404 404";
    private const string UploaderOnly = "404 404 404 200 404 404 404";
    private const string Refused = "403 403 403 403 403 403 403";
    private const string Objects = "/v1/objects/{objectId}";

    private const string PublicChannel = "(public channel)";
    private const string PrivateChannel = "(private channel)";

    private static readonly Dictionary<string, Endpoint> Endpoints = Build();

    private static Dictionary<string, Endpoint> Build()
    {
        var list = new List<(string Key, Endpoint Endpoint)>
        {
            ("POST /v1/auth/register", new("POST", "/v1/auth/register", "201 201 201 201 201 201 201", Mutates: true, Open: true,
                Body: (_, _) => new { email = $"n-{Guid.NewGuid():N}@example.test", password = SecurityWorld.Password, displayName = "new" })),
            ("POST /v1/auth/login", new("POST", "/v1/auth/login", AllOk, Open: true,
                Body: (w, _) => new { email = w.Spare.Email, password = SecurityWorld.Password })),
            ("POST /v1/auth/logout", new("POST", "/v1/auth/logout", "204 204 204 204 204 204 204")),
            // Each caller sets their own password (to the same one: the world's users keep signing in with it).
            ("POST /v1/auth/password", new("POST", "/v1/auth/password", AllOk,
                Body: (_, _) => new { currentPassword = SecurityWorld.Password, newPassword = SecurityWorld.Password })),
            ("POST /v1/auth/logout-everywhere", new("POST", "/v1/auth/logout-everywhere", "204 204 204 204 204 204 204")),
            ("POST /v1/auth/password-reset", new("POST", "/v1/auth/password-reset", "202 202 202 202 202 202 202", Open: true,
                Body: (w, _) => new { email = w.Spare.Email })),
            ("POST /v1/auth/password-reset/confirm", new("POST", "/v1/auth/password-reset/confirm", "410r 410r 410r 410r 410r 410r 410r", Open: true,
                Body: (w, _) => new { token = $"{w.Spare.UserId}.not-a-mailed-secret", newPassword = SecurityWorld.Password })),
            ("GET /v1/connect", new("GET", "/v1/connect", AllOk)),
            ("GET /health/live", new("GET", "/health/live", AllOk, Open: true)),
            ("GET /health/ready", new("GET", "/health/ready", AllOk, Open: true)),
            ("POST /v1/gateway/negotiate", new("POST", "/v1/gateway/negotiate?negotiateVersion=1", AllOk)),
            ("GET /openapi/v1.json", new("GET", "/openapi/v1.json", AllOk, Open: true)),
            ("POST /v1/workspaces", new("POST", "/v1/workspaces", "201 201 201 201 201 201 201", Mutates: true, Body: (_, _) => new { name = "more" })),
            ("GET /v1/workspaces", new("GET", "/v1/workspaces", AllOk)),
            ("POST /v1/workspaces/{workspaceId}/members", new("POST", "/v1/workspaces/{ws}/members", "404 403 403 403 403 200 403",
                Body: (w, _) => new { userId = w.Spare.UserId, role = "member" })),
            ("POST /v1/workspaces/{workspaceId}/channels", new("POST", "/v1/workspaces/{ws}/channels", "404 201 201 201 201 201 201", Mutates: true,
                Body: (_, _) => new { name = $"n{Guid.NewGuid():N}"[..20] })),
            ("GET /v1/workspaces/{workspaceId}/channels", new("GET", "/v1/workspaces/{ws}/channels", WorkspaceOk)),
            ("GET /v1/workspaces/{workspaceId}/members", new("GET", "/v1/workspaces/{ws}/members", WorkspaceOk)),
            ("GET /v1/workspaces/{workspaceId}/threads", new("GET", "/v1/workspaces/{ws}/threads", WorkspaceOk)),
            ("POST /v1/workspaces/{workspaceId}/invites", new("POST", "/v1/workspaces/{ws}/invites", "404 403 403 403 403 201 403",
                Body: (_, _) => new { maxUses = 3 })),
            ("GET /v1/workspaces/{workspaceId}/invites", new("GET", "/v1/workspaces/{ws}/invites", "404 403 403 403 403 200 403")),
            // The world's invite is revoked already: revoking it again is the admin's no-op, and accepting it is 410 for anyone.
            ("DELETE /v1/workspaces/{workspaceId}/invites/{inviteId}", new("DELETE", "/v1/workspaces/{ws}/invites/{invite}", "404 403 403 403 403 200 403",
                Pattern: "/v1/workspaces/{workspaceId}/invites/{inviteId}")),
            ("POST /v1/invites/{code}/accept", new("POST", "/v1/invites/{code}/accept", "410i 410i 410i 410i 410i 410i 410i",
                Pattern: "/v1/invites/{code}/accept")),
            ("POST /v1/workspaces/{workspaceId}/dms", new("POST", "/v1/workspaces/{ws}/dms", WorkspaceOk, Mutates: true,
                Body: (w, _) => new { userIds = new[] { w.Spare.UserId } })),
            ("GET /v1/users/{userId}", new("GET", "/v1/users/{member}", WorkspaceOk)),
            ("GET /v1/users/me", new("GET", "/v1/users/me", AllOk)),
            ("PATCH /v1/users/me", new("PATCH", "/v1/users/me", AllOk, Body: (_, _) => new { title = "Analyst", timeZone = "Europe/Paris" })),
            // An avatar from the member's own uploaded image: the member only; anyone else naming it is 400, as for any file not theirs.
            ("PATCH /v1/users/me (the member's image as avatar)", new("PATCH", "/v1/users/me", "400 400 400 200 400 400 400",
                Body: (w, _) => new { avatarFileId = w.AvatarFileId })),
            ("PUT /v1/users/me/status", new("PUT", "/v1/users/me/status", AllOk, Body: (_, _) => new { emoji = "palm_tree", text = "On holiday" })),
            ("DELETE /v1/users/me/status", new("DELETE", "/v1/users/me/status", AllOk)),
            ("GET /v1/users/me/notifications", new("GET", "/v1/users/me/notifications", AllOk)),
            ("PATCH /v1/users/me/notifications", new("PATCH", "/v1/users/me/notifications", AllOk, Body: (_, _) => new { digestMinutes = 15 })),
            // The link's token is the grant (no sign-in); one that is not a token is not found, for everyone.
            ("GET /v1/notifications/unsubscribe", new("GET", "/v1/notifications/unsubscribe?token=forged", "404 404 404 404 404 404 404", Open: true)),
            ("POST /v1/notifications/unsubscribe", new("POST", "/v1/notifications/unsubscribe?token=forged", "404 404 404 404 404 404 404", Open: true)),
            ("GET /v1/search", new("GET", "/v1/search?workspaceId={ws}&q=secret", WorkspaceOk)),
            ("POST /v1/files", new("POST", "/v1/files", "404 201 201 201 201 201 201", Mutates: true,
                Body: (w, _) => new { name = "n.txt", size = 10, contentType = "text/plain", workspaceId = w.WorkspaceId })),
            // The object store's URLs are the grant: whoever holds a valid one gets the bytes, token or not; an expired
            // (or altered) one is refused to everyone. Who may get a URL is GET /v1/files/{fileId}'s cells.
            ($"GET {Objects}", new("GET", "{object GET}", AllOk, Open: true, Pattern: Objects)),
            ($"GET {Objects} (expired URL)", new("GET", "{expired GET}", Refused, Open: true, Pattern: Objects)),
            ($"PUT {Objects} (expired URL)", new("PUT", "{expired PUT}", Refused, Open: true, Pattern: Objects, Body: (_, _) => new byte[10])),
            // Nobody of the world is an instance administrator: removing someone who is in no workspace of theirs is a
            // no-op the workspace admin may ask for (the removals themselves: Api/WorkspaceMembership).
            ("DELETE /v1/workspaces/{workspaceId}/members/{userId}", new("DELETE", "/v1/workspaces/{ws}/members/{other}", "404 403 403 403 403 200 403",
                Pattern: "/v1/workspaces/{workspaceId}/members/{userId}")),
            ("POST /v1/admin/users/{userId}/deactivate", new("POST", "/v1/admin/users/{member}/deactivate", Refused)),
            ("POST /v1/admin/users/{userId}/reactivate", new("POST", "/v1/admin/users/{member}/reactivate", Refused)),
            ("GET /v1/admin/projections", new("GET", "/v1/admin/projections", "403 403 403 403 403 403 403")),
            ("GET /v1/admin/status", new("GET", "/v1/admin/status", "403 403 403 403 403 403 403")),
            ("POST /v1/admin/projections/{name}/rebuild", new("POST", "/v1/admin/projections/history/rebuild", "403 403 403 403 403 403 403",
                Pattern: "/v1/admin/projections/{name}/rebuild")),
            ("POST /v1/admin/projections/{name}/restart", new("POST", "/v1/admin/projections/history/restart", "403 403 403 403 403 403 403",
                Pattern: "/v1/admin/projections/{name}/restart")),
        };
        // Channel endpoints, each on a public and on a private channel: (method, path, public answers, private answers, mutates, body).
        var channel = new List<(string Method, string Path, string Public, string Private, bool Mutates, Func<SecurityWorld, Scene?, object?>? Body)>
        {
            ("GET", "/v1/channels/{ch}", PublicVisible, PrivateMembers, false, null),
            ("PATCH", "/v1/channels/{ch}", PublicMembers, PrivateMembers, true, (_, _) => new { topic = "new topic" }),
            ("POST", "/v1/channels/{ch}/archive", PublicCreatorOrAdmin, PrivateCreator, true, null),
            ("POST", "/v1/channels/{ch}/unarchive", PublicCreatorOrAdmin, PrivateCreator, true, null),
            ("POST", "/v1/channels/{ch}/join", PublicVisible, PrivateMembers, true, null),
            ("POST", "/v1/channels/{ch}/leave", PublicMembers, PrivateMembers, true, null),
            ("POST", "/v1/channels/{ch}/members", PublicMembers, PrivateMembers, true, (w, _) => new { userId = w.Spare.UserId }),
            ("DELETE", "/v1/channels/{ch}/members/{member}", PublicCreatorOrAdmin, PrivateCreator, true, null),
            ("GET", "/v1/channels/{ch}/members", PublicVisible, PrivateMembers, false, null),
            ("POST", "/v1/channels/{ch}/messages", "404 403c 403c 201 201 403c 403c", "404 404 404 201 201 404 404", true, (_, _) => new { text = "hello" }),
            ("GET", "/v1/channels/{ch}/messages", PublicVisible, PrivateMembers, false, null),
            ("GET", "/v1/channels/{ch}/messages/{seq}", PublicVisible, PrivateMembers, false, null),
            ("GET", "/v1/channels/{ch}/messages/{seq}/thread", PublicVisible, PrivateMembers, false, null),
            ("PATCH", "/v1/channels/{ch}/messages/{seq}", "404 403 403 200 403 403 403", "404 404 404 200 403 404 404", true, (_, _) => new { text = "edited" }),
            ("DELETE", "/v1/channels/{ch}/messages/{seq}", "404 403 403 200 200 200 403", "404 404 404 200 200 404 404", true, null),
            ("PUT", "/v1/channels/{ch}/messages/{seq}/reactions/{emoji}", PublicMembers, PrivateMembers, true, null),
            ("DELETE", "/v1/channels/{ch}/messages/{seq}/reactions/{emoji}", PublicMembers, PrivateMembers, true, null),
            ("PUT", "/v1/channels/{ch}/messages/{seq}/pin", PublicMembers, PrivateMembers, true, null),
            ("DELETE", "/v1/channels/{ch}/messages/{seq}/pin", PublicMembers, PrivateMembers, true, null),
            ("GET", "/v1/channels/{ch}/pins", PublicVisible, PrivateMembers, false, null),
            ("PUT", "/v1/channels/{ch}/notifications", PublicVisible, PrivateMembers, true, (_, _) => new { level = "all", muted = false }),
            ("PUT", "/v1/channels/{ch}/messages/{seq}/follow", PublicMembers, PrivateMembers, true, null),
            ("DELETE", "/v1/channels/{ch}/messages/{seq}/follow", PublicMembers, PrivateMembers, true, null),
            // A file: for members of a channel where it was shared, public or not; one who left (the removed member) is out.
            ("GET", "/v1/files/{file}", ChannelMembersOnly, ChannelMembersOnly, false, null),
            // Completing an upload: its uploader only (the member; done already, so the same answer again), 404 for anyone else.
            ("POST", "/v1/files/{file}/complete", UploaderOnly, UploaderOnly, false, null),
            ("POST", "/v1/channels/{ch}/read", PublicMembers, PrivateMembers, true, (_, s) => new { seq = s!.Seq }),
            ("POST", "/v1/channels/{ch}/legal-hold", "404 403 403 403 403 200 403", "404 404 404 403 403 200 404", true, (_, _) => new { reason = "case 1" }),
            ("DELETE", "/v1/channels/{ch}/legal-hold", "404 403 403 403 403 200 403", "404 404 404 403 403 200 404", true, null),
            ("GET", "/v1/audit/channels/{ch}/events", Auditors, Auditors, false, null),
            ("GET", "/v1/audit/channels/{ch}/verify", Auditors, Auditors, false, null),
            ("GET", "/v1/audit/channels/{ch}/as-of?at={now}", Auditors, Auditors, false, null),
        };
        foreach (var (method, path, pub, priv, mutates, body) in channel)
        {
            Endpoint Of(string expected) => new(method, path, expected, mutates, Body: body);
            list.Add(($"{Of(pub).Route} {PublicChannel}", Of(pub)));
            list.Add(($"{Of(priv).Route} {PrivateChannel}", Of(priv)));
        }
        // Keyed by route (and the channel kind): the key must be the route the endpoint is on.
        Assert.All(list, e => Assert.StartsWith(e.Endpoint.Route, e.Key, StringComparison.Ordinal));
        return list.ToDictionary(e => e.Key, e => e.Endpoint);
    }

    private static readonly Caller[] Authenticated =
        [Caller.OtherWorkspaceUser, Caller.NonMember, Caller.RemovedMember, Caller.Member, Caller.ChannelCreator, Caller.WorkspaceAdmin, Caller.Auditor];

    private static bool IsAuthenticated(Caller caller) => caller >= Caller.OtherWorkspaceUser;

    /// <summary>The caller's column: a user removed from the workspace is answered exactly as a user of another workspace.</summary>
    private static int ColumnOf(Caller caller) =>
        Array.IndexOf(Authenticated, caller == Caller.RemovedFromWorkspace ? Caller.OtherWorkspaceUser : caller);

    private static (int Status, string? Code) Expected(Endpoint endpoint, Caller caller)
    {
        if (!IsAuthenticated(caller) && !endpoint.Open)
        {
            return (401, "unauthenticated");
        }
        var cell = endpoint.Expected.Split(' ')[ColumnOf(IsAuthenticated(caller) ? caller : Caller.Member)];
        return cell switch
        {
            "403c" => (403, "not_in_channel"),
            "410r" => (410, "reset_expired"),
            "410i" => (410, "invite_revoked"),
            "403" => (403, "forbidden"),
            "400" => (400, "invalid_request"),
            "404" => (404, "not_found"),
            _ => (int.Parse(cell, System.Globalization.CultureInfo.InvariantCulture), null),
        };
    }

    public static TheoryData<string, Caller> RestCells()
    {
        var data = new TheoryData<string, Caller>();
        foreach (var key in Endpoints.Keys)
        {
            foreach (var caller in Enum.GetValues<Caller>())
            {
                data.Add(key, caller);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RestCells))]
    public async Task Rest(string endpoint, Caller caller)
    {
        var e = Endpoints[endpoint];
        var (status, code) = Expected(e, caller);
        Scene? scene = null;
        if (e.OnChannel)
        {
            var isPrivate = endpoint.EndsWith(PrivateChannel, StringComparison.Ordinal);
            scene = e.Mutates && IsAuthenticated(caller) ? await World.SceneAsync(isPrivate) : isPrivate ? World.Private : World.Public;
        }
        var token = !IsAuthenticated(caller) ? World.TokenOf(caller)
            : endpoint == "POST /v1/auth/logout"
                ? await World.LoginAsync(World.UserOf(caller)!) // log-out revokes the token it is called with: not the user's shared one
                : endpoint == "POST /v1/auth/logout-everywhere"
                    ? await World.LoginAsync(World.Account) // it revokes every token of its caller: a user no other cell signs in as
                    : World.TokenOf(caller);
        var path = e.Path
            .Replace("{ws}", World.WorkspaceId, StringComparison.Ordinal)
            .Replace("{ch}", scene?.ChannelId ?? "", StringComparison.Ordinal)
            .Replace("{seq}", scene?.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", StringComparison.Ordinal)
            .Replace("{member}", World.Member.UserId, StringComparison.Ordinal)
            .Replace("{invite}", World.RevokedInviteId, StringComparison.Ordinal)
            .Replace("{code}", World.RevokedInviteCode, StringComparison.Ordinal)
            .Replace("{other}", World.Other.UserId, StringComparison.Ordinal)
            .Replace("{emoji}", "eyes", StringComparison.Ordinal)
            .Replace("{file}", scene?.FileId ?? "", StringComparison.Ordinal)
            .Replace("{object GET}", e.Path == "{object GET}" ? World.ObjectUrl("GET", expired: false) : "", StringComparison.Ordinal)
            .Replace("{expired GET}", e.Path == "{expired GET}" ? World.ObjectUrl("GET", expired: true) : "", StringComparison.Ordinal)
            .Replace("{expired PUT}", e.Path == "{expired PUT}" ? World.ObjectUrl("PUT", expired: true) : "", StringComparison.Ordinal)
            .Replace("{now}", Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture)), StringComparison.Ordinal);

        var before = await LogAsync();
        using var client = World.ClientWith(token);
        using var request = Request(e.Method, path, e.Body?.Invoke(World, scene), minPosition: e.Method == "GET" ? scene?.Position ?? World.Position : null);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == status, $"{endpoint} as {caller}: expected {status} {code}, got {(int)response.StatusCode} {Cut(text)}");
        if (status < 400)
        {
            return;
        }
        var (actualCode, failure) = ProblemCode(response, text);
        Assert.True(failure is null, $"{endpoint} as {caller}: {failure}");
        Assert.Equal(code, actualCode);
        Assert.Equal(before, await LogAsync());
        if (scene is not null)
        {
            var pushed = await NothingPushedAsync(scene.ChannelId, before.Head);
            Assert.True(pushed is null, $"{endpoint} as {caller}: {pushed}");
        }
    }

    /// <summary>
    /// Hub methods, per authenticated caller in the same column order: <c>ok</c> completes (and has its effect), 404 is a
    /// hub error <c>not_found</c> with no effect. The unauthenticated kinds cannot open a connection at all (401).
    /// </summary>
    private static readonly Dictionary<string, string> HubMethods = new()
    {
        ["connect"] = "ok ok ok ok ok ok ok",
        ["Resume"] = "ok ok ok ok ok ok ok",
        ["Typing {public}"] = "404 404 404 ok ok 404 404",
        ["Typing {private}"] = "404 404 404 ok ok 404 404",
        ["SubscribePresence"] = "ok ok ok ok ok ok ok",
        ["SetPresence"] = "ok ok ok ok ok ok ok",
    };

    public static TheoryData<string, Caller> HubCells()
    {
        var data = new TheoryData<string, Caller>();
        foreach (var method in HubMethods.Keys)
        {
            foreach (var caller in Enum.GetValues<Caller>())
            {
                data.Add(method, caller);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(HubCells))]
    public async Task Hub(string method, Caller caller)
    {
        var token = World.TokenOf(caller);
        if (!IsAuthenticated(caller))
        {
            var socket = World.Host.Server.CreateWebSocketClient();
            var query = token is null ? "" : $"?access_token={Uri.EscapeDataString(token)}";
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => socket.ConnectAsync(new Uri($"ws://localhost/v1/gateway{query}"), CancellationToken.None));
            Assert.Contains("401", refused.Message, StringComparison.Ordinal);
            return;
        }
        var user = World.UserOf(caller)!;
        var allowed = HubMethods[method].Split(' ')[ColumnOf(caller)] == "ok";
        Scene? scene = method.StartsWith("Typing", StringComparison.Ordinal) ? await World.SceneAsync(method.Contains("private", StringComparison.Ordinal)) : null;
        var before = await LogAsync();
        await using var hub = await HubClient.ConnectAsync(World.Host, user);
        switch (method)
        {
            case "connect":
                await hub.BarrierAsync();
                break;
            case "Resume":
                await hub.InvokeAsync("Resume", 0L);
                await ResumedOnlyOwnChannelsAsync(hub, user, caller);
                break;
            case "SubscribePresence":
                await hub.InvokeAsync("SubscribePresence", (object)new[] { World.Member.UserId });
                var presence = hub.OfType("presence.changed");
                // A user of another workspace learns nothing of the member's presence; anyone sharing one does.
                if (caller is Caller.OtherWorkspaceUser or Caller.RemovedFromWorkspace)
                {
                    Assert.Empty(presence);
                }
                else
                {
                    Assert.NotEmpty(presence);
                }
                break;
            case "SetPresence":
                await hub.InvokeAsync("SetPresence", "away");
                await hub.InvokeAsync("SetPresence", "active");
                break;
            default:
                await TypingAsync(hub, user, scene!, allowed, caller);
                break;
        }
        if (!allowed)
        {
            Assert.Equal(before, await LogAsync());
        }
    }

    private async Task TypingAsync(HubClient hub, TestUser user, Scene scene, bool allowed, Caller caller)
    {
        bool IsTypingOf(System.Text.Json.JsonElement e, string userId) =>
            e.GetProperty("type").GetString() == "typing" && ChannelOf(e) == scene.ChannelId
            && e.GetProperty("data").GetProperty("userId").GetString() == userId;
        if (allowed)
        {
            await hub.InvokeAsync("Typing", scene.ChannelId);
            await World.WatcherHub.WaitUntilAsync(e => e.Any(x => IsTypingOf(x, user.UserId)), TimeSpan.FromSeconds(15), $"typing of {caller}");
            return;
        }
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => hub.InvokeAsync("Typing", scene.ChannelId));
        Assert.Contains("not_found", error.Message, StringComparison.Ordinal);
        // The creator types after the refused call: the watcher gets the creator's signal, and nothing from the caller.
        await World.CreatorHub.InvokeAsync("Typing", scene.ChannelId);
        var events = await World.WatcherHub.WaitUntilAsync(e => e.Any(x => IsTypingOf(x, World.Creator.UserId)), TimeSpan.FromSeconds(15), "the creator's typing");
        Assert.DoesNotContain(events, e => IsTypingOf(e, user.UserId));
    }

    /// <summary>After <c>Resume(0)</c>: every replayed channel event is of a channel the caller is in now (the write side's truth).</summary>
    private async Task ResumedOnlyOwnChannelsAsync(HubClient hub, TestUser user, Caller caller)
    {
        await using var cmd = Db.DataSource.CreateCommand("""
            select coalesce(array_agg(m.channel_id), '{}'),
                   coalesce((select max(e.position) from es_events e
                              where e.stream_id = any (select 'channel-' || x.channel_id from ws_channel_members x where x.user_id = $1)
                                and e.type = 'message.posted.v1'), 0)
              from ws_channel_members m where m.user_id = $1
            """);
        cmd.Parameters.AddWithValue(user.UserId);
        string[] mine;
        long last;
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            await r.ReadAsync();
            (mine, last) = ((string[])r.GetValue(0), r.GetInt64(1));
        }
        if (last > 0)
        {
            await hub.WaitUntilAsync(e => e.Any(x => Position(x) >= last), TimeSpan.FromSeconds(20), $"the replay up to {last}");
        }
        var foreign = hub.Events.Where(e => ChannelOf(e) is { } ch && !mine.Contains(ch)).ToList();
        Assert.True(foreign.Count == 0, $"{caller} was replayed events of channels they are not in: {string.Join(", ", foreign.Select(HubClient.Describe))}");
        if (caller is Caller.Member or Caller.ChannelCreator)
        {
            Assert.Contains(hub.Events, e => ChannelOf(e) == World.Private.ChannelId && e.GetProperty("type").GetString() == "message.posted");
        }
        else
        {
            Assert.DoesNotContain(hub.Events, e => ChannelOf(e) == World.Private.ChannelId);
        }
    }
}
