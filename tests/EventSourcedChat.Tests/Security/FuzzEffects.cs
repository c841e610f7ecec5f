using System.Globalization;
using System.Net;
using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Security;

/// <summary>One event the log holds: what an accepted command appended.</summary>
internal sealed record LoggedEvent(string Stream, long Version, string Type, JsonElement Data, long Position);

/// <summary>
/// The documented effect of an accepted (2xx) fuzzed command, judged from what the request carried: the status, exactly
/// the events appended (stream, type and every field the request decides, normalised as API.md and docs/api.md say:
/// trimmed text, lower-case email, blank topic as none), the answer's ids, seq and position, and the state read back
/// through the API. Commands that API.md calls idempotent may append nothing, when the read-back shows the state held.
/// </summary>
internal sealed partial class FuzzEffects(SecurityWorld w, Scene s)
{
    /// <summary>Null when the effect is the documented one, else what differs.</summary>
    public async Task<string?> CheckAsync(Command c, HttpClient client, string path, byte[]? body, string? contentType, int status, string answerText,
        IReadOnlyList<LoggedEvent> appended)
    {
        try
        {
            return await JudgeAsync(c, client, path, Parse(body, contentType), status, answerText, appended);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or JsonException or NullReferenceException or FormatException)
        {
            return $"accepted ({status}) with an answer or effect that is not the documented one ({e.GetType().Name}: {e.Message}): {SecurityTest.Cut(answerText)}";
        }
    }

    private async Task<string?> JudgeAsync(Command c, HttpClient client, string path, JsonElement? request, int status, string answerText, IReadOnlyList<LoggedEvent> appended)
    {
        var answer = answerText.Length == 0 ? (JsonElement?)null : JsonDocument.Parse(answerText).RootElement.Clone();
        var last = appended.Count == 0 ? (long?)null : appended[^1].Position;
        var ch = s.ChannelId;
        var channel = $"channel-{ch}";
        string? Status(int expected) => status == expected ? null : $"answered {status}, documented {expected}";
        string? Position() => answer?.TryGetProperty("position", out var p) != true ? "no position in the answer"
            : last is { } l && p.GetInt64() != l ? $"answered position {p.GetInt64()}, the last event appended is at {l}" : null;
        string? Text(string name) => Field(request, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
        // Numbers bind from JSON numbers and from strings that hold one (the web defaults of minimal APIs).
        long? Number(string name) => Field(request, name) switch
        {
            { ValueKind: JsonValueKind.Number } n => n.GetInt64(),
            { ValueKind: JsonValueKind.String } n => long.Parse(n.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
            _ => null,
        };

        switch (c.Key)
        {
            case "POST /v1/auth/register":
            {
                var userId = answer?.GetProperty("userId").GetString();
                return Status(201) ?? Exactly(appended, ($"user-{userId}", typeof(UserRegistered),
                           new { userId, email = Text("email")!.Trim().ToLowerInvariant(), displayName = Text("displayName")!.Trim() }))
                       ?? await TokenWorksAsync(answer!.Value, expected: true);
            }
            case "POST /v1/auth/login":
                return Status(200) ?? Exactly(appended)
                       ?? (answer?.GetProperty("userId").GetString() == c.Caller.UserId ? null : $"signed in as {answer?.GetProperty("userId")}")
                       ?? await TokenWorksAsync(answer!.Value, expected: true);
            case "POST /v1/auth/logout":
                return Status(204) ?? Exactly(appended) ?? await RevokedAsync(client);
            case "POST /v1/auth/logout-everywhere":
                return Status(204) ?? Exactly(appended) ?? await RevokedAsync(client);
            case "POST /v1/auth/password":
                return Status(200) ?? Exactly(appended, ($"user-{c.Caller.UserId}", typeof(PasswordChanged), new { userId = c.Caller.UserId, via = "change" }))
                       ?? Position() ?? await PasswordBackAsync(Text("newPassword")!);
            case "POST /v1/auth/password-reset":
                // Mails a link to the account with that address, if any, at most once a minute: one event or none.
                return Status(202) ?? (appended.Count == 0 ? null
                    : Exactly(appended, ($"user-{w.Spare.UserId}", typeof(PasswordResetRequested), new { userId = w.Spare.UserId })));
            case "POST /v1/auth/password-reset/confirm":
                return Status(200) ?? Exactly(appended, ($"user-{w.Account.UserId}", typeof(PasswordChanged), new { userId = w.Account.UserId, via = "reset" }))
                       ?? Position() ?? await PasswordBackAsync(Text("newPassword")!);
            case "POST /v1/gateway/negotiate":
            {
                // SignalR's negotiation (its transport protocol, which the official clients read, rather than problem+json):
                // a connection id, and from version 1 a token to open the WebSocket with; a version the server does not
                // speak is an answer with "error" and no connection. Nothing in the log either way.
                var version = Uri.UnescapeDataString(path.Split("negotiateVersion=", 2) is [_, var v] ? v.Split('&')[0] : "0");
                var negotiated = version is "0" or "1"
                    ? answer?.TryGetProperty("connectionId", out _) == true && answer?.TryGetProperty("connectionToken", out _) == (version == "1")
                      && answer?.TryGetProperty("error", out _) == false
                    : answer?.TryGetProperty("error", out _) == true && answer?.TryGetProperty("connectionId", out _) == false;
                return Status(200) ?? Exactly(appended)
                       ?? (negotiated ? null : $"negotiateVersion {SecurityTest.Cut(version)} answered {SecurityTest.Cut(answerText)}");
            }
            case "POST /v1/files":
            {
                // An upload request appends nothing: it answers a file id and a signed URL of this host's object store.
                var fileId = answer?.GetProperty("fileId").GetString();
                var url = answer?.GetProperty("uploadUrl").GetString();
                return Status(201) ?? Exactly(appended)
                       ?? (fileId is { Length: 32 } && url?.StartsWith($"/v1/objects/{fileId}?", StringComparison.Ordinal) == true
                           && answer?.GetProperty("uploadMethod").GetString() == "PUT" ? null : $"answered {SecurityTest.Cut(answerText)}");
            }
            case "POST /v1/files/{fileId}/complete":
            {
                // The scene's file was uploaded and completed: completing again appends nothing and answers the same file.
                return Status(200) ?? Exactly(appended)
                       ?? (answer?.GetProperty("fileId").GetString() == s.FileId && answer?.GetProperty("sha256").GetString() is { Length: 64 }
                           ? null : $"answered {SecurityTest.Cut(answerText)}");
            }
            case "POST /v1/workspaces":
            {
                var id = answer?.GetProperty("workspaceId").GetString();
                var by = c.Caller.UserId;
                var name = Text("name")!.Trim();
                return Status(201) ?? Exactly(appended,
                           ($"workspace-{id}", typeof(WorkspaceCreated), new { workspaceId = id, name, createdBy = by }),
                           ($"workspace-{id}", typeof(WorkspaceMemberAdded), new { workspaceId = id, userId = by, role = "admin", addedBy = by }))
                       ?? Position()
                       ?? await ReadBackAsync(client, "/v1/workspaces", last, r => r.EnumerateArray().Any(x =>
                           x.GetProperty("workspaceId").GetString() == id && x.GetProperty("name").GetString() == name && x.GetProperty("role").GetString() == "admin"));
            }
            case "POST /v1/workspaces/{workspaceId}/members":
            {
                var userId = Text("userId")!.Trim();
                var role = Text("role") ?? "member";
                return Status(200) ?? await IdempotentAsync(appended, ($"workspace-{w.WorkspaceId}", typeof(WorkspaceMemberAdded),
                           new { workspaceId = w.WorkspaceId, userId, role, addedBy = c.Caller.UserId }),
                           new([typeof(WorkspaceMemberAdded)], d => Is(d, "userId", userId), (_, d) => d is { } x && Is(x, "role", role)))
                       ?? Position()
                       ?? await RoleIsAsync(userId, role);
            }
            case "POST /v1/workspaces/{workspaceId}/invites":
            {
                // A shareable link, or (with a valid address) an invite mailed to it; the answer's link is the invite's.
                var id = answer?.GetProperty("inviteId").GetString();
                var email = Text("email")?.Trim().ToLowerInvariant();
                return Status(201) ?? Exactly(appended, ($"workspace-{w.WorkspaceId}", typeof(InviteCreated),
                           new { workspaceId = w.WorkspaceId, inviteId = id, email, createdBy = c.Caller.UserId }))
                       ?? Position()
                       ?? (answer?.GetProperty("url").GetString()?.Contains($"code={id}.", StringComparison.Ordinal) == true ? null : $"answered {SecurityTest.Cut(answerText)}");
            }
            case "DELETE /v1/workspaces/{workspaceId}/invites/{inviteId}":
                // The world's invite is revoked already: revoking it again appends nothing.
                return Status(200) ?? Exactly(appended) ?? Position();
            case "POST /v1/invites/{code}/accept":
                return Status(200) ?? Exactly(appended,
                           ($"workspace-{w.WorkspaceId}", typeof(InviteAccepted), new { workspaceId = w.WorkspaceId, userId = c.Caller.UserId }),
                           ($"workspace-{w.WorkspaceId}", typeof(WorkspaceMemberAdded), new { workspaceId = w.WorkspaceId, userId = c.Caller.UserId, role = "member" }))
                       ?? Position()
                       ?? await ReadBackAsync(client, "/v1/workspaces", last, r => r.EnumerateArray().Any(x => x.GetProperty("workspaceId").GetString() == w.WorkspaceId));
            case "POST /v1/workspaces/{workspaceId}/channels":
            {
                var id = answer?.GetProperty("channelId").GetString();
                var name = Text("name")!.Trim();
                var isPrivate = Field(request, "isPrivate")?.ValueKind == JsonValueKind.True;
                var topic = Topic(Text("topic"));
                return Status(201) ?? Exactly(appended,
                           ($"channel-{id}", typeof(ChannelCreated), new
                           {
                               channelId = id, workspaceId = w.WorkspaceId, name, kind = isPrivate ? "private" : "public", topic,
                               createdBy = c.Caller.UserId, members = Array.Empty<string>(),
                           }),
                           ($"channel-{id}", typeof(MemberJoined), new { channelId = id, userId = c.Caller.UserId, invitedBy = (string?)null }))
                       ?? Position()
                       ?? await ReadBackAsync(client, $"/v1/channels/{id}", last, r =>
                           r.GetProperty("name").GetString() == name && r.GetProperty("isPrivate").GetBoolean() == isPrivate
                           && r.GetProperty("topic").GetString() == topic && r.GetProperty("kind").GetString() == (isPrivate ? "private" : "public"));
            }
            case "POST /v1/workspaces/{workspaceId}/dms":
            {
                var id = answer?.GetProperty("channelId").GetString();
                var members = Field(request, "userIds")!.Value.EnumerateArray().Select(u => u.GetString()!).Append(c.Caller.UserId)
                    .Distinct().Order(StringComparer.Ordinal).ToArray();
                return Status(200) ?? (appended.Count == 0 ? null : Exactly(appended,
                           [
                               ($"channel-{id}", typeof(ChannelCreated), new
                               {
                                   channelId = id, workspaceId = w.WorkspaceId, name = "", kind = "dm", topic = (string?)null,
                                   createdBy = c.Caller.UserId, members,
                               }),
                               .. members.Select(m => ($"channel-{id}", typeof(MemberJoined),
                                   (object)new { channelId = id, userId = m, invitedBy = m == c.Caller.UserId ? null : c.Caller.UserId })),
                           ]))
                       ?? Position()
                       ?? await ReadBackAsync(client, $"/v1/channels/{id}", last, r => r.GetProperty("kind").GetString() == "dm");
            }
            case "PATCH /v1/channels/{channelId}":
            {
                var name = Text("name")?.Trim();
                var topic = Field(request, "topic") is { ValueKind: JsonValueKind.String } ? Topic(Text("topic")) : null;
                var expected = new List<(string, Type, object)>();
                if (name is not null && appended.Any(e => e.Type == Stored(typeof(ChannelRenamed))))
                {
                    expected.Add((channel, typeof(ChannelRenamed), new { channelId = ch, name, by = c.Caller.UserId }));
                }
                if (Field(request, "topic") is { ValueKind: JsonValueKind.String } && appended.Any(e => e.Type == Stored(typeof(ChannelTopicSet))))
                {
                    expected.Add((channel, typeof(ChannelTopicSet), new { channelId = ch, topic, by = c.Caller.UserId }));
                }
                return Status(200) ?? Exactly(appended, [.. expected]) ?? Position()
                       ?? await ReadBackAsync(client, $"/v1/channels/{ch}", last, r =>
                           (name is null || r.GetProperty("name").GetString() == name)
                           && (Field(request, "topic") is not { ValueKind: JsonValueKind.String } || r.GetProperty("topic").GetString() == topic));
            }
            case "POST /v1/channels/{channelId}/members":
            {
                var userId = Text("userId")!.Trim();
                return Status(200) ?? await IdempotentAsync(appended, (channel, typeof(MemberJoined), new { channelId = ch, userId, invitedBy = c.Caller.UserId }),
                           Flag(typeof(MemberJoined), typeof(MemberLeft), true, d => Is(d, "userId", userId)))
                       ?? Position() ?? await MembersHaveAsync(client, userId, true, last);
            }
            case "POST /v1/channels/{channelId}/messages":
            {
                var text = Text("text")!.Trim();
                var root = Number("threadRootSeq");
                var seq = answer?.GetProperty("seq").GetInt64();
                if (status == 200)
                {
                    // The same clientMsgId again: the first result, nothing appended.
                    return Exactly(appended) ?? await ReadBackAsync(client, $"/v1/channels/{ch}/messages/{seq}", null,
                        m => m.GetProperty("userId").GetString() == c.Caller.UserId);
                }
                return Status(201) ?? Exactly(appended, (channel, typeof(MessagePosted), new { channelId = ch, userId = c.Caller.UserId, text, threadRootSeq = root }))
                       ?? (appended[0].Version == seq ? null : $"answered seq {seq}, the event's version is {appended[0].Version}")
                       ?? (answer?.GetProperty("channelId").GetString() == ch ? null : "answered another channel")
                       ?? Position()
                       ?? await ReadBackAsync(client, $"/v1/channels/{ch}/messages/{seq}", last, m =>
                           m.GetProperty("text").GetString() == text && m.GetProperty("userId").GetString() == c.Caller.UserId
                           && (m.GetProperty("threadRootSeq").ValueKind == JsonValueKind.Null ? null : m.GetProperty("threadRootSeq").GetInt64()) == root);
            }
            case "PATCH /v1/channels/{channelId}/messages/{seq:long}":
            {
                var text = Text("text")!.Trim();
                return Status(200) ?? Exactly(appended, (channel, typeof(MessageEdited), new { channelId = ch, seq = s.Seq, text, by = c.Caller.UserId }))
                       ?? Position()
                       ?? await ReadBackAsync(client, $"/v1/channels/{ch}/messages/{s.Seq}", last, m => m.GetProperty("text").GetString() == text);
            }
            case "PUT /v1/channels/{channelId}/messages/{seq:long}/reactions/{emoji}":
            case "DELETE /v1/channels/{channelId}/messages/{seq:long}/reactions/{emoji}":
            {
                var add = c.Method == "PUT";
                var emoji = Uri.UnescapeDataString(path.Split('/')[^1]); // the path's emoji, as the server decodes it
                return Status(200) ?? await IdempotentAsync(appended, (channel, add ? typeof(ReactionAdded) : typeof(ReactionRemoved),
                           new { channelId = ch, seq = s.Seq, emoji, userId = c.Caller.UserId }),
                           Flag(typeof(ReactionAdded), typeof(ReactionRemoved), add,
                               d => d.GetProperty("seq").GetInt64() == s.Seq && Is(d, "emoji", emoji) && Is(d, "userId", c.Caller.UserId)))
                       ?? Position()
                       ?? await ReadBackAsync(client, $"/v1/channels/{ch}/messages/{s.Seq}", last, m => add == m.GetProperty("reactions").EnumerateArray().Any(g =>
                           g.GetProperty("emoji").GetString() == emoji && g.GetProperty("userIds").EnumerateArray().Any(u => u.GetString() == c.Caller.UserId)));
            }
            case "PUT /v1/channels/{channelId}/messages/{seq:long}/pin":
            case "DELETE /v1/channels/{channelId}/messages/{seq:long}/pin":
            {
                var pin = c.Method == "PUT";
                return Status(200) ?? await IdempotentAsync(appended, (channel, pin ? typeof(MessagePinned) : typeof(MessageUnpinned),
                           new { channelId = ch, seq = s.Seq, by = c.Caller.UserId }),
                           Flag(typeof(MessagePinned), typeof(MessageUnpinned), pin, d => d.GetProperty("seq").GetInt64() == s.Seq))
                       ?? Position()
                       ?? await ReadBackAsync(client, $"/v1/channels/{ch}/messages/{s.Seq}", last, m => m.GetProperty("pinned").GetBoolean() == pin);
            }
            case "POST /v1/channels/{channelId}/read":
                // Never backwards: a marker already at or past seq moves nothing.
                return Status(200) ?? await IdempotentAsync(appended, ($"user-{c.Caller.UserId}", typeof(ReadMarkerMoved),
                    new { userId = c.Caller.UserId, channelId = ch, seq = Number("seq")!.Value }),
                    new([typeof(ReadMarkerMoved)], d => Is(d, "channelId", ch), (_, d) => d?.GetProperty("seq").GetInt64() >= Number("seq"))) ?? Position();
            case "POST /v1/channels/{channelId}/legal-hold":
            {
                var reason = Text("reason") is { } t && !string.IsNullOrWhiteSpace(t) ? t.Trim() : null;
                return Status(200) ?? await IdempotentAsync(appended, (channel, typeof(LegalHoldPlaced), new { channelId = ch, reason, by = c.Caller.UserId }),
                           Flag(typeof(LegalHoldPlaced), typeof(LegalHoldLifted), true, _ => true))
                       ?? Position();
            }
            case "DELETE /v1/channels/{channelId}/legal-hold":
                return Status(200) ?? await IdempotentAsync(appended, (channel, typeof(LegalHoldLifted), new { channelId = ch, by = c.Caller.UserId }),
                           Flag(typeof(LegalHoldPlaced), typeof(LegalHoldLifted), false, _ => true))
                       ?? Position();
            case "POST /v1/channels/{channelId}/join":
            case "POST /v1/channels/{channelId}/leave":
            {
                var join = c.Key.EndsWith("/join", StringComparison.Ordinal);
                return Status(200) ?? await IdempotentAsync(appended, join
                           ? (channel, typeof(MemberJoined), new { channelId = ch, userId = c.Caller.UserId, invitedBy = (string?)null })
                           : (channel, typeof(MemberLeft), new { channelId = ch, userId = c.Caller.UserId, removedBy = (string?)null }),
                           Flag(typeof(MemberJoined), typeof(MemberLeft), join, d => Is(d, "userId", c.Caller.UserId)))
                       ?? Position() ?? await MembersHaveAsync(w.Creator.Client, c.Caller.UserId, join, last);
            }
            case "DELETE /v1/channels/{channelId}/members/{userId}":
                return Status(200) ?? await IdempotentAsync(appended, (channel, typeof(MemberLeft), new { channelId = ch, userId = w.Member.UserId, removedBy = c.Caller.UserId }),
                           Flag(typeof(MemberJoined), typeof(MemberLeft), false, d => Is(d, "userId", w.Member.UserId)))
                       ?? Position() ?? await MembersHaveAsync(client, w.Member.UserId, false, last);
            case "POST /v1/channels/{channelId}/archive":
            case "POST /v1/channels/{channelId}/unarchive":
            {
                var archive = c.Key.EndsWith("/archive", StringComparison.Ordinal);
                return Status(200) ?? await IdempotentAsync(appended, (channel, archive ? typeof(ChannelArchived) : typeof(ChannelUnarchived), new { channelId = ch, by = c.Caller.UserId }),
                           Flag(typeof(ChannelArchived), typeof(ChannelUnarchived), archive, _ => true))
                       ?? Position() ?? await ReadBackAsync(client, $"/v1/channels/{ch}", last, r => r.GetProperty("archived").GetBoolean() == archive);
            }
            case "DELETE /v1/channels/{channelId}/messages/{seq:long}":
                return Status(200) ?? await IdempotentAsync(appended, (channel, typeof(MessageDeleted), new { channelId = ch, seq = s.Seq, by = c.Caller.UserId }),
                           new([typeof(MessageDeleted)], d => d.GetProperty("seq").GetInt64() == s.Seq, (type, _) => type is not null))
                       ?? Position()
                       ?? await ReadBackAsync(w.Creator.Client, $"/v1/channels/{ch}/messages/{s.Seq}", last, m => m.GetProperty("deleted").GetBoolean());
            case "PATCH /v1/users/me/notifications":
            case "POST /v1/notifications/unsubscribe":
            case "PUT /v1/channels/{channelId}/notifications":
            case "PUT /v1/channels/{channelId}/messages/{seq:long}/follow":
            case "DELETE /v1/channels/{channelId}/messages/{seq:long}/follow":
                return Status(200) ?? await NotificationEffectAsync(c, client, request, appended, last, ch, s.Seq) ?? Position();
            case "PATCH /v1/users/me":
            case "PUT /v1/users/me/status":
            case "DELETE /v1/users/me/status":
                return Status(200) ?? await ProfileEffectAsync(c, client, request, appended, last) ?? Position();
            default:
                return $"accepted ({status}), and no documented effect is known for {c.Key}";
        }
    }
}
