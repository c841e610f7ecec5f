using System.Text.Json;
using System.Text.RegularExpressions;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Profiles;

namespace EventSourcedChat.Contracts.Realtime;

/// <summary>
/// Maps stored events to the realtime contract's <see cref="PushMessage"/> (the push worker sends them; a gateway's
/// resume replay maps what it reads from the log the same way). It takes the stored event's fields rather than the
/// event store's record, so that both sides share it without depending on each other (Contracts references nothing).
/// </summary>
public static partial class PushRouting
{
    public const string ChannelStreamPrefix = StreamNames.ChannelPrefix;

    /// <summary>
    /// The push message for a stored event (its stream, version, stored type, JSON data, writing transaction, global
    /// position and time), or null when clients are not told about it.
    /// </summary>
    public static PushMessage? ToMessage(
        string streamId, long version, string type, string data, ulong txId, long position, DateTimeOffset createdAt)
    {
        if (streamId.StartsWith(ChannelStreamPrefix, StringComparison.Ordinal))
        {
            if (type.StartsWith("channel.legal_hold_", StringComparison.Ordinal))
            {
                return null; // compliance state, for admins and auditors (audit API), not for the channel's members
            }
            var channelId = streamId[ChannelStreamPrefix.Length..];
            using var doc = JsonDocument.Parse(data);
            var payload = doc.RootElement.Clone();
            string? userId = null;
            var name = NameOf(type);
            switch (name)
            {
                case RealtimeTypes.MessagePosted:
                    payload = MessageData(data, channelId, version, createdAt);
                    break;
                case RealtimeTypes.MemberJoined or RealtimeTypes.MemberLeft:
                    userId = payload.TryGetProperty("userId", out var u) ? u.GetString() : null;
                    break;
                case RealtimeTypes.MessagePinned or RealtimeTypes.MessageUnpinned:
                    payload = PinData(payload, channelId, name == RealtimeTypes.MessagePinned, createdAt);
                    break;
                case "channel.renamed" or "channel.topic_set":
                    // API.md names one client event for both: channel.updated.
                    name = RealtimeTypes.ChannelUpdated;
                    break;
            }
            return new PushMessage(name, channelId, version, position, txId, position, createdAt, payload, userId);
        }
        if (StreamNames.IsUser(streamId) && NameOf(type) == RealtimeTypes.ReadMarker)
        {
            var marker = JsonSerializer.Deserialize<ReadMarkerMoved>(data, EventTypes.Json)!;
            var payload = JsonSerializer.SerializeToElement(new { channelId = marker.ChannelId, seq = marker.Seq }, EventTypes.Json);
            return new PushMessage(RealtimeTypes.ReadMarker, marker.ChannelId, null, null, txId, position, createdAt, payload, marker.UserId);
        }
        if (streamId.StartsWith(StreamNames.WorkspacePrefix, StringComparison.Ordinal) && NameOf(type) == RealtimeTypes.WorkspaceMemberAdded)
        {
            // For the added user's gateway only (it starts receiving the workspace's profile changes); clients are not sent it.
            var added = JsonSerializer.Deserialize<WorkspaceMemberAdded>(data, EventTypes.Json)!;
            var payload = JsonSerializer.SerializeToElement(new { workspaceId = added.WorkspaceId, userId = added.UserId }, EventTypes.Json);
            return new PushMessage(RealtimeTypes.WorkspaceMemberAdded, null, null, null, txId, position, createdAt, payload, added.UserId);
        }
        if (streamId.StartsWith(StreamNames.WorkspacePrefix, StringComparison.Ordinal) && NameOf(type) == RealtimeTypes.WorkspaceMemberRemoved)
        {
            // For the removed user's gateway only (it stops receiving the workspace's profile changes); clients are not sent it.
            var removed = JsonSerializer.Deserialize<WorkspaceMemberRemoved>(data, EventTypes.Json)!;
            var payload = JsonSerializer.SerializeToElement(new { workspaceId = removed.WorkspaceId, userId = removed.UserId }, EventTypes.Json);
            return new PushMessage(RealtimeTypes.WorkspaceMemberRemoved, null, null, null, txId, position, createdAt, payload, removed.UserId);
        }
        if (StreamNames.IsUser(streamId) && NameOf(type) == RealtimeTypes.UserDeactivated)
        {
            // For the gateways of the user's connections only: they close them (the tokens are revoked already).
            var deactivated = JsonSerializer.Deserialize<UserDeactivated>(data, EventTypes.Json)!;
            var payload = JsonSerializer.SerializeToElement(new { userId = deactivated.UserId }, EventTypes.Json);
            return new PushMessage(RealtimeTypes.UserDeactivated, null, null, null, txId, position, createdAt, payload, deactivated.UserId);
        }
        if (StreamNames.IsUser(streamId) && ProfileChange(type, data, position) is var (changedUser, workspaceIds, change))
        {
            var payload = JsonSerializer.SerializeToElement(change, EventTypes.Json);
            return new PushMessage(RealtimeTypes.UserUpdated, null, null, null, txId, position, createdAt, payload, changedUser, null, workspaceIds);
        }
        return null;
    }

    /// <summary>
    /// A profile event as <c>user.updated</c> shows it: the user, the workspaces told, and the changed part of the
    /// profile (<c>{userId, displayName, title, timeZone}</c>, <c>{userId, status}</c>, status null when cleared, or
    /// <c>{userId, avatar: {fileId, sha256}, position}</c>, avatar null when removed; <c>position</c> the event's, for a
    /// read of the profile with <c>?minPosition=</c>).
    /// </summary>
    private static (string UserId, IReadOnlyList<string> WorkspaceIds, object Change)? ProfileChange(string type, string data, long position) =>
        EventTypes.Deserialize(type, data) switch
        {
            UserProfileUpdated p => (p.UserId, p.WorkspaceIds,
                new { userId = p.UserId, displayName = p.DisplayName, title = p.Title, timeZone = p.TimeZone }),
            UserStatusSet s => (s.UserId, s.WorkspaceIds,
                new { userId = s.UserId, status = (StatusView?)new StatusView(s.Emoji, s.Text, s.ExpiresAt) }),
            UserStatusCleared c => (c.UserId, c.WorkspaceIds, new { userId = c.UserId, status = (StatusView?)null }),
            // No URLs: they are signed per read. A client reads the profile again for them, with ?minPosition=position (the
            // push worker may be ahead of the profiles projection).
            UserAvatarSet a => (a.UserId, a.WorkspaceIds, new { userId = a.UserId, avatar = (object?)new { fileId = a.FileId, sha256 = a.Sha256 }, position }),
            UserAvatarRemoved r => (r.UserId, r.WorkspaceIds, new { userId = r.UserId, avatar = (object?)null, position }),
            _ => null,
        };

    /// <summary>The stored type without its version: <c>message.posted.v1</c> is <c>message.posted</c>.</summary>
    public static string NameOf(string storedType) => VersionSuffix().Replace(storedType, "");

    /// <summary>A posted message as the history API shows it, plus <c>threadRootSeq</c>.</summary>
    private static JsonElement MessageData(string data, string channelId, long version, DateTimeOffset createdAt)
    {
        var m = JsonSerializer.Deserialize<MessagePosted>(data, EventTypes.Json)!;
        return JsonSerializer.SerializeToElement(new
        {
            channelId,
            seq = version,
            messageId = m.MessageId,
            userId = m.UserId,
            text = m.Text,
            threadRootSeq = m.ThreadRootSeq,
            mentions = m.Mentions,
            createdAt,
            editedAt = (DateTimeOffset?)null,
            deleted = false,
            replyCount = 0,
            lastReplyAt = (DateTimeOffset?)null,
            reactions = Array.Empty<object>(),
            pinned = false,
            pinnedBy = (string?)null,
            pinnedAt = (DateTimeOffset?)null,
            files = m.Files ?? [],
        }, EventTypes.Json);
    }

    /// <summary>A pin's change as the history API shows it on the message: <c>pinned</c>, <c>pinnedBy</c>, <c>pinnedAt</c> (null when unpinned), and who did it.</summary>
    private static JsonElement PinData(JsonElement stored, string channelId, bool pinned, DateTimeOffset at)
    {
        var by = stored.GetProperty("by").GetString(); // message.pinned and message.unpinned carry {channelId, seq, by}
        return JsonSerializer.SerializeToElement(new
        {
            channelId,
            seq = stored.GetProperty("seq").GetInt64(),
            pinned,
            pinnedBy = pinned ? by : null,
            pinnedAt = pinned ? at : (DateTimeOffset?)null,
            by,
        }, EventTypes.Json);
    }

    [GeneratedRegex(@"\.v[0-9]+$")]
    private static partial Regex VersionSuffix();
}
