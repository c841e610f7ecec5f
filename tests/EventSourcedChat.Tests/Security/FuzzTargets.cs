using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedChat.Tests.Infrastructure;
using static EventSourcedChat.Tests.Security.FuzzInputs;

namespace EventSourcedChat.Tests.Security;

internal enum Kind { Text, Number, Flag, Ids }

/// <summary>
/// A command endpoint, keyed by its route (<c>METHOD pattern</c>, as in the app's route table): who calls it, its valid
/// path and bad ones, the fields of its body (none: no body), a valid body. <c>FreshToken</c>: each case signs in
/// again (log-out revokes the token it is called with).
/// </summary>
internal sealed record Command(string Key, string Method, TestUser Caller, string Path, (string Label, string Path, bool Foreign)[] BadPaths,
    (string Name, Kind Kind)[] Fields, Func<JsonObject> Valid, bool FreshToken = false);

/// <summary>A query endpoint, keyed by its route: who calls it, its valid path (no query), bad paths, query parameters.</summary>
internal sealed record Query(string Key, TestUser Caller, string Path, (string Label, string Path, bool Foreign)[] BadPaths, string[] Parameters);

/// <summary>A hub method: a valid argument list, wrong ones, texts, and ids of another workspace.</summary>
internal sealed record HubMethod(string Method, string Valid, string[] Wrong, string[] Texts, string[] Foreign);

/// <summary>
/// What the fuzzer covers, keyed exactly as <see cref="EndpointCoverage"/> reads the app's route table and the hub's
/// methods. Pure tables (no I/O), so the coverage test builds the very lists the fuzz tests run.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>The hub's transport route: its methods and frames are fuzzed over it.</summary>
    public const string HubRoute = "GET /v1/gateway";

    public static readonly string[] AdminRoutes =
        ["GET /v1/admin/projections", "POST /v1/admin/projections/{name}/rebuild", "POST /v1/admin/projections/{name}/restart", "GET /v1/admin/status",
         "POST /v1/admin/users/{userId}/deactivate", "POST /v1/admin/users/{userId}/reactivate"];

    /// <summary>Removing members and leaving: fuzzed on a workspace of its own (a removal would change the shared world).</summary>
    public static readonly string[] MemberRoutes = ["DELETE /v1/workspaces/{workspaceId}/members/{userId}"];

    /// <summary>The embedded object store's routes: raw bytes and signed query strings, fuzzed by their own test.</summary>
    public static readonly string[] ObjectRoutes = ["GET /v1/objects/{objectId}", "PUT /v1/objects/{objectId}"];

    private static (string, string, bool)[] ChannelPaths(string foreignChannel, string foreignPrivate, string suffix, string valid) =>
    [
        .. BadIds.Select(b => ($"channel {SecurityTest.Cut(b)}", $"/v1/channels/{b}{suffix}", false)),
        ("another workspace's channel", $"/v1/channels/{foreignChannel}{suffix}", true),
        ("another workspace's private channel", $"/v1/channels/{foreignPrivate}{suffix}", true),
        ("the same path, upper case", valid.ToUpperInvariant(), false),
    ];

    /// <summary>The command endpoints on scene <paramref name="s"/>, in the order they run (the last ones end the scene).</summary>
    public static Command[] Commands(SecurityWorld w, Scene s, string foreignChannel, string foreignPrivate)
    {
        var ch = s.ChannelId;
        var seq = s.Seq;
        (string, string, bool)[] Channel(string suffix) => ChannelPaths(foreignChannel, foreignPrivate, suffix, $"/v1/channels/{ch}{suffix}");
        (string, string, bool)[] Message(string suffix) =>
        [
            .. ChannelPaths(foreignChannel, foreignPrivate, $"/messages/{seq}{suffix}", $"/v1/channels/{ch}/messages/{seq}{suffix}"),
            .. BadSeqs.Select(q => ($"seq {q}", $"/v1/channels/{ch}/messages/{q}{suffix}", false)),
        ];
        (string, string, bool)[] Emoji(string prefix) => [.. BadEmoji.Select(e => ($"emoji {SecurityTest.Cut(e)}", $"{prefix}/reactions/{e}", false))];
        (string, string, bool)[] Workspace(string suffix) =>
        [
            .. BadIds.Select(b => ($"workspace {SecurityTest.Cut(b)}", $"/v1/workspaces/{b}{suffix}", false)),
            ("another workspace", $"/v1/workspaces/{w.OtherWorkspaceId}{suffix}", true),
        ];
        const string message = "/v1/channels/{channelId}/messages/{seq:long}";
        return
        [
            new("POST /v1/auth/register", "POST", w.Spare, "/v1/auth/register", [], [("email", Kind.Text), ("password", Kind.Text), ("displayName", Kind.Text)],
                () => new JsonObject { ["email"] = $"f-{Guid.NewGuid():N}@example.test", ["password"] = SecurityWorld.Password, ["displayName"] = "fuzz" }),
            new("POST /v1/auth/login", "POST", w.Spare, "/v1/auth/login", [], [("email", Kind.Text), ("password", Kind.Text)],
                () => new JsonObject { ["email"] = w.Spare.Email, ["password"] = SecurityWorld.Password }),
            new("POST /v1/auth/logout", "POST", w.Spare, "/v1/auth/logout", [], [], () => [], FreshToken: true),
            // The reset link is confirmed before the password change runs: a password change ends a pending link.
            new("POST /v1/auth/password-reset", "POST", w.Spare, "/v1/auth/password-reset", [], [("email", Kind.Text)],
                () => new JsonObject { ["email"] = w.Spare.Email }),
            new("POST /v1/auth/password-reset/confirm", "POST", w.Account, "/v1/auth/password-reset/confirm", [], [("token", Kind.Text), ("newPassword", Kind.Text)],
                () => new JsonObject { ["token"] = w.ResetToken, ["newPassword"] = SecurityWorld.Password }),
            new("POST /v1/auth/password", "POST", w.Account, "/v1/auth/password", [], [("currentPassword", Kind.Text), ("newPassword", Kind.Text)],
                () => new JsonObject { ["currentPassword"] = SecurityWorld.Password, ["newPassword"] = SecurityWorld.Password }, FreshToken: true),
            new("POST /v1/auth/logout-everywhere", "POST", w.Account, "/v1/auth/logout-everywhere", [], [], () => [], FreshToken: true),
            new("POST /v1/gateway/negotiate", "POST", w.Member, "/v1/gateway/negotiate?negotiateVersion=1",
                [.. QueryValues.Concat(Injections.Select(Uri.EscapeDataString)).Select(v => ($"negotiateVersion={SecurityTest.Cut(v)}", $"/v1/gateway/negotiate?negotiateVersion={v}", false)),
                 ("no version", "/v1/gateway/negotiate", false)], [], () => []),
            new("POST /v1/workspaces", "POST", w.Spare, "/v1/workspaces", [], [("name", Kind.Text)], () => new JsonObject { ["name"] = "fuzz" }),
            new("PATCH /v1/users/me", "PATCH", w.Spare, "/v1/users/me", [],
                [("displayName", Kind.Text), ("title", Kind.Text), ("timeZone", Kind.Text), ("avatarFileId", Kind.Text)],
                () => new JsonObject { ["title"] = $"fuzzed {Guid.NewGuid():N}"[..20], ["timeZone"] = "Europe/Paris" }),
            new("PUT /v1/users/me/status", "PUT", w.Spare, "/v1/users/me/status", [], [("emoji", Kind.Text), ("text", Kind.Text), ("expiresAt", Kind.Text)],
                () => new JsonObject { ["emoji"] = "palm_tree", ["text"] = $"away {Guid.NewGuid():N}"[..20], ["expiresAt"] = DateTimeOffset.UtcNow.AddDays(1).ToString("O") }),
            new("DELETE /v1/users/me/status", "DELETE", w.Spare, "/v1/users/me/status", [], [], () => []),
            new("PATCH /v1/users/me/notifications", "PATCH", w.Spare, "/v1/users/me/notifications", [],
                [("email", Kind.Flag), ("digestMinutes", Kind.Number), ("snoozeUntil", Kind.Text)],
                () => new JsonObject { ["email"] = true, ["digestMinutes"] = 15 }),
            new("POST /v1/notifications/unsubscribe", "POST", w.Spare, $"/v1/notifications/unsubscribe?token={Uri.EscapeDataString(w.UnsubscribeToken)}",
                [("a forged token", "/v1/notifications/unsubscribe?token=forged", false), ("no token", "/v1/notifications/unsubscribe", false),
                 .. Injections.Select(Uri.EscapeDataString).Select(v => ($"token={SecurityTest.Cut(v)}", $"/v1/notifications/unsubscribe?token={v}", false))],
                [], () => []),
            new("POST /v1/files", "POST", w.Member, "/v1/files", [],
                [("name", Kind.Text), ("size", Kind.Number), ("contentType", Kind.Text), ("workspaceId", Kind.Text)],
                () => new JsonObject { ["name"] = "fuzz.txt", ["size"] = 10, ["contentType"] = "text/plain", ["workspaceId"] = w.WorkspaceId }),
            new("POST /v1/files/{fileId}/complete", "POST", w.Member, $"/v1/files/{s.FileId}/complete",
                [.. BadIds.Select(b => ($"file {SecurityTest.Cut(b)}", $"/v1/files/{b}/complete", false)),
                 ("the same path, upper case", $"/v1/files/{s.FileId.ToUpperInvariant()}/complete", false)], [], () => []),
            new("POST /v1/workspaces/{workspaceId}/members", "POST", w.Admin, $"/v1/workspaces/{w.WorkspaceId}/members", Workspace("/members"),
                [("userId", Kind.Text), ("role", Kind.Text)], () => new JsonObject { ["userId"] = w.Spare.UserId, ["role"] = "member" }),
            new("POST /v1/workspaces/{workspaceId}/invites", "POST", w.Admin, $"/v1/workspaces/{w.WorkspaceId}/invites", Workspace("/invites"),
                [("email", Kind.Text), ("maxUses", Kind.Number), ("expiresAt", Kind.Text)], () => new JsonObject { ["maxUses"] = 3 }),
            new("DELETE /v1/workspaces/{workspaceId}/invites/{inviteId}", "DELETE", w.Admin, $"/v1/workspaces/{w.WorkspaceId}/invites/{w.RevokedInviteId}",
                [.. Workspace($"/invites/{w.RevokedInviteId}"), .. BadIds.Select(b => ($"invite {SecurityTest.Cut(b)}", $"/v1/workspaces/{w.WorkspaceId}/invites/{b}", false))],
                [], () => []),
            // The account (of no workspace) joins with a live link; it signs in for each case (log-out everywhere revokes its tokens).
            new("POST /v1/invites/{code}/accept", "POST", w.Account, $"/v1/invites/{w.LiveInviteCode}/accept",
                [.. BadIds.Select(b => ($"code {SecurityTest.Cut(b)}", $"/v1/invites/{b}/accept", false)),
                 ("the secret altered", $"/v1/invites/{w.LiveInviteCode}x/accept", false), ("the revoked invite", $"/v1/invites/{w.RevokedInviteCode}/accept", false)],
                [], () => [], FreshToken: true),
            new("POST /v1/workspaces/{workspaceId}/channels", "POST", w.Creator, $"/v1/workspaces/{w.WorkspaceId}/channels", Workspace("/channels"),
                [("name", Kind.Text), ("isPrivate", Kind.Flag), ("topic", Kind.Text)],
                () => new JsonObject { ["name"] = $"c{Guid.NewGuid():N}"[..20], ["isPrivate"] = false, ["topic"] = "t" }),
            new("POST /v1/workspaces/{workspaceId}/dms", "POST", w.Creator, $"/v1/workspaces/{w.WorkspaceId}/dms", Workspace("/dms"),
                [("userIds", Kind.Ids)], () => new JsonObject { ["userIds"] = new JsonArray(w.Spare.UserId) }),
            new("PATCH /v1/channels/{channelId}", "PATCH", w.Creator, $"/v1/channels/{ch}", Channel(""), [("name", Kind.Text), ("topic", Kind.Text)],
                () => new JsonObject { ["topic"] = "fuzzed" }),
            new("POST /v1/channels/{channelId}/members", "POST", w.Creator, $"/v1/channels/{ch}/members", Channel("/members"), [("userId", Kind.Text)],
                () => new JsonObject { ["userId"] = w.Spare.UserId }),
            new("POST /v1/channels/{channelId}/messages", "POST", w.Member, $"/v1/channels/{ch}/messages", Channel("/messages"),
                [("text", Kind.Text), ("clientMsgId", Kind.Text), ("threadRootSeq", Kind.Number), ("files", Kind.Ids)],
                () => new JsonObject { ["text"] = "hi", ["clientMsgId"] = Guid.NewGuid().ToString(), ["threadRootSeq"] = seq }),
            new($"PATCH {message}", "PATCH", w.Member, $"/v1/channels/{ch}/messages/{seq}", Message(""), [("text", Kind.Text)],
                () => new JsonObject { ["text"] = "edited" }),
            new($"PUT {message}/reactions/{{emoji}}", "PUT", w.Member, $"/v1/channels/{ch}/messages/{seq}/reactions/thumbsup",
                [.. Message("/reactions/thumbsup"), .. Emoji($"/v1/channels/{ch}/messages/{seq}")], [], () => []),
            new($"DELETE {message}/reactions/{{emoji}}", "DELETE", w.Member, $"/v1/channels/{ch}/messages/{seq}/reactions/thumbsup",
                [.. Message("/reactions/thumbsup"), .. Emoji($"/v1/channels/{ch}/messages/{seq}")], [], () => []),
            new($"PUT {message}/pin", "PUT", w.Member, $"/v1/channels/{ch}/messages/{seq}/pin", Message("/pin"), [], () => []),
            new($"DELETE {message}/pin", "DELETE", w.Member, $"/v1/channels/{ch}/messages/{seq}/pin", Message("/pin"), [], () => []),
            new("PUT /v1/channels/{channelId}/notifications", "PUT", w.Member, $"/v1/channels/{ch}/notifications", Channel("/notifications"),
                [("level", Kind.Text), ("muted", Kind.Flag)], () => new JsonObject { ["level"] = "all", ["muted"] = false }),
            new($"PUT {message}/follow", "PUT", w.Member, $"/v1/channels/{ch}/messages/{seq}/follow", Message("/follow"), [], () => []),
            new($"DELETE {message}/follow", "DELETE", w.Member, $"/v1/channels/{ch}/messages/{seq}/follow", Message("/follow"), [], () => []),
            new("POST /v1/channels/{channelId}/read", "POST", w.Member, $"/v1/channels/{ch}/read", Channel("/read"), [("seq", Kind.Number)],
                () => new JsonObject { ["seq"] = seq }),
            new("POST /v1/channels/{channelId}/legal-hold", "POST", w.Admin, $"/v1/channels/{ch}/legal-hold", Channel("/legal-hold"), [("reason", Kind.Text)],
                () => new JsonObject { ["reason"] = "fuzz" }),
            new("DELETE /v1/channels/{channelId}/legal-hold", "DELETE", w.Admin, $"/v1/channels/{ch}/legal-hold", Channel("/legal-hold"), [], () => []),
            new("POST /v1/channels/{channelId}/join", "POST", w.NonMember, $"/v1/channels/{ch}/join", Channel("/join"), [], () => []),
            new("POST /v1/channels/{channelId}/unarchive", "POST", w.Creator, $"/v1/channels/{ch}/unarchive", Channel("/unarchive"), [], () => []),
            // Last, as they end the scene: deleting the message, removing its author, leaving, archiving.
            new($"DELETE {message}", "DELETE", w.Member, $"/v1/channels/{ch}/messages/{seq}", Message(""), [], () => []),
            new("DELETE /v1/channels/{channelId}/members/{userId}", "DELETE", w.Creator, $"/v1/channels/{ch}/members/{w.Member.UserId}",
                [.. Channel($"/members/{w.Member.UserId}"), .. BadIds.Select(b => ($"user {SecurityTest.Cut(b)}", $"/v1/channels/{ch}/members/{b}", false)),
                 ("another workspace's user", $"/v1/channels/{ch}/members/{w.Other.UserId}", true)], [], () => []),
            new("POST /v1/channels/{channelId}/leave", "POST", w.NonMember, $"/v1/channels/{ch}/leave", Channel("/leave"), [], () => []),
            new("POST /v1/channels/{channelId}/archive", "POST", w.Creator, $"/v1/channels/{ch}/archive", Channel("/archive"), [], () => []),
        ];
    }

    public static Query[] Queries(SecurityWorld w, string foreignChannel, string foreignPrivate)
    {
        var s = w.Private;
        var ch = s.ChannelId;
        (string, string, bool)[] Channel(string suffix, string valid) => ChannelPaths(foreignChannel, foreignPrivate, suffix, valid);
        (string, string, bool)[] Audit(string suffix, bool upperCase = true) =>
        [
            .. Channel(suffix, upperCase ? $"/v1/audit/channels/{ch}{suffix}" : "").Where(p => upperCase || p.Item1 != "the same path, upper case")
                .Select(p => (p.Item1, p.Item2.Replace("/v1/channels/", "/v1/audit/channels/", StringComparison.Ordinal), p.Item3)),
        ];
        const string message = "/v1/channels/{channelId}/messages/{seq:long}";
        return
        [
            new("GET /v1/workspaces", w.Member, "/v1/workspaces", [], []),
            new("GET /v1/connect", w.Member, "/v1/connect", [], []),
            new("GET /v1/workspaces/{workspaceId}/channels", w.Member, $"/v1/workspaces/{w.WorkspaceId}/channels",
                [.. BadIds.Select(b => ($"workspace {SecurityTest.Cut(b)}", $"/v1/workspaces/{b}/channels", false)),
                 ("another workspace", $"/v1/workspaces/{w.OtherWorkspaceId}/channels", true)], []),
            new("GET /v1/workspaces/{workspaceId}/members", w.Member, $"/v1/workspaces/{w.WorkspaceId}/members",
                [.. BadIds.Select(b => ($"workspace {SecurityTest.Cut(b)}", $"/v1/workspaces/{b}/members", false)),
                 ("another workspace", $"/v1/workspaces/{w.OtherWorkspaceId}/members", true)], ["q", "query", "cursor", "limit"]),
            new("GET /v1/workspaces/{workspaceId}/threads", w.Member, $"/v1/workspaces/{w.WorkspaceId}/threads",
                [.. BadIds.Select(b => ($"workspace {SecurityTest.Cut(b)}", $"/v1/workspaces/{b}/threads", false)),
                 ("another workspace", $"/v1/workspaces/{w.OtherWorkspaceId}/threads", true)], ["cursor", "limit"]),
            new("GET /v1/workspaces/{workspaceId}/invites", w.Admin, $"/v1/workspaces/{w.WorkspaceId}/invites",
                [.. BadIds.Select(b => ($"workspace {SecurityTest.Cut(b)}", $"/v1/workspaces/{b}/invites", false)),
                 ("another workspace", $"/v1/workspaces/{w.OtherWorkspaceId}/invites", true)], ["cursor", "limit"]),
            new("GET /v1/channels/{channelId}", w.Member, $"/v1/channels/{ch}", Channel("", $"/v1/channels/{ch}"), []),
            new("GET /v1/channels/{channelId}/members", w.Member, $"/v1/channels/{ch}/members", Channel("/members", $"/v1/channels/{ch}/members"), []),
            new("GET /v1/channels/{channelId}/messages", w.Member, $"/v1/channels/{ch}/messages", Channel("/messages", $"/v1/channels/{ch}/messages"),
                ["before", "after", "limit"]),
            new($"GET {message}", w.Member, $"/v1/channels/{ch}/messages/{s.Seq}",
                [.. Channel($"/messages/{s.Seq}", $"/v1/channels/{ch}/messages/{s.Seq}"),
                 .. BadSeqs.Select(q => ($"seq {q}", $"/v1/channels/{ch}/messages/{q}", false))], []),
            new($"GET {message}/thread", w.Member, $"/v1/channels/{ch}/messages/{s.Seq}/thread",
                [.. Channel($"/messages/{s.Seq}/thread", $"/v1/channels/{ch}/messages/{s.Seq}/thread"),
                 .. BadSeqs.Select(q => ($"seq {q}", $"/v1/channels/{ch}/messages/{q}/thread", false))], ["after", "limit"]),
            new("GET /v1/channels/{channelId}/pins", w.Member, $"/v1/channels/{ch}/pins", Channel("/pins", $"/v1/channels/{ch}/pins"), []),
            new("GET /v1/users/me", w.Member, "/v1/users/me", [], []),
            new("GET /v1/users/me/notifications", w.Member, "/v1/users/me/notifications", [], []),
            // Following a forged link: 404 whatever the token (a real one turns mail off, which a query must not).
            new("GET /v1/notifications/unsubscribe", w.Member, "/v1/notifications/unsubscribe", [], ["token"]),
            new("GET /v1/files/{fileId}", w.Member, $"/v1/files/{s.FileId}",
                [.. BadIds.Select(b => ($"file {SecurityTest.Cut(b)}", $"/v1/files/{b}", false)),
                 ("the same path, upper case", $"/v1/files/{s.FileId.ToUpperInvariant()}", false)], []),
            new("GET /v1/users/{userId}", w.Member, $"/v1/users/{w.Creator.UserId}",
                [.. BadIds.Select(b => ($"user {SecurityTest.Cut(b)}", $"/v1/users/{b}", false)), ("another workspace's user", $"/v1/users/{w.Other.UserId}", true)], []),
            new("GET /v1/search", w.Member, $"/v1/search?workspaceId={w.WorkspaceId}&q=secret",
                [.. BadIds.Select(b => ($"workspace {SecurityTest.Cut(b)}", $"/v1/search?workspaceId={b}&q=secret", false)),
                 ("another workspace", $"/v1/search?workspaceId={w.OtherWorkspaceId}&q=secret", true),
                 ("another workspace's channel", $"/v1/search?workspaceId={w.WorkspaceId}&q=secret&channelId={foreignPrivate}", true),
                 ("another workspace's channel in q", $"/v1/search?workspaceId={w.WorkspaceId}&q=has%3Afile%20in%3A{foreignPrivate}", true),
                 ("no workspace", "/v1/search?q=secret", false)],
                ["q", "channelId", "fromUserId", "before", "after", "limit"]),
            new("GET /v1/audit/channels/{channelId}/events", w.Auditor, $"/v1/audit/channels/{ch}/events", Audit("/events"), ["fromSeq", "limit"]),
            new("GET /v1/audit/channels/{channelId}/verify", w.Auditor, $"/v1/audit/channels/{ch}/verify", Audit("/verify"), []),
            new("GET /v1/audit/channels/{channelId}/as-of", w.Auditor, $"/v1/audit/channels/{ch}/as-of?at=2020-01-01T00:00:00Z",
                Audit("/as-of?at=2020-01-01T00:00:00Z", upperCase: false), ["at"]),
            new("GET /v1/admin/projections", w.Member, "/v1/admin/projections", [], []),
            new("GET /v1/admin/status", w.Member, "/v1/admin/status", [], []),
            new("GET /openapi/v1.json", w.Member, "/openapi/v1.json",
                [.. BadIds.Concat(Injections.Select(Uri.EscapeDataString)).Select(b => ($"document {SecurityTest.Cut(b)}", $"/openapi/{b}.json", false))], []),
        ];
    }

    public static HubMethod[] HubMethods(SecurityWorld w, string foreignChannel, string foreignPrivate)
    {
        string J(object? v) => JsonSerializer.Serialize(v);
        var wrong = new[] { "null", "true", "{}", "[]", "\"abc\"", "1.5", "1e309", "\"NaN\"", "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775809" };
        var text = Injections.Concat(ControlText).Concat(HugeText.Take(1)).ToArray();
        return
        [
            new("Resume", "[0]", wrong, [], []),
            new("Typing", $"[{J(w.Public.ChannelId)}]", wrong, [.. text.Select(t => $"[{J(t)}]")], [$"[{J(foreignChannel)}]", $"[{J(foreignPrivate)}]"]),
            new("SubscribePresence", $"[[{J(w.Creator.UserId)}]]", [.. wrong, "[[1]]", "[[null]]", "[[[]]]", $"[{J(Enumerable.Range(0, 501).Select(i => $"u{i}"))}]"],
                [.. text.Select(t => $"[[{J(t)}]]")], [$"[[{J(w.Other.UserId)}]]"]),
            new("SetPresence", "[\"active\"]", wrong, [.. text.Select(t => $"[{J(t)}]"), "[\"offline\"]", "[\"ACTIVE\"]"], []),
        ];
    }
}
