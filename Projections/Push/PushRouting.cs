using System.Text.Json;
using System.Text.RegularExpressions;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Projections.Push;

/// <summary>
/// Maps stored events to the realtime contract's <see cref="PushMessage"/> (the push worker sends them; a gateway's
/// resume replay maps what it reads from the log the same way).
/// </summary>
public static partial class PushRouting
{
    public const string ChannelStreamPrefix = StreamNames.ChannelPrefix;

    /// <summary>The push message for a stored event, or null when clients are not told about it.</summary>
    public static PushMessage? ToMessage(RecordedEvent e)
    {
        if (e.StreamId.StartsWith(ChannelStreamPrefix, StringComparison.Ordinal))
        {
            if (e.Type.StartsWith("channel.legal_hold_", StringComparison.Ordinal))
            {
                return null; // compliance state, for admins and auditors (audit API), not for the channel's members
            }
            var channelId = e.StreamId[ChannelStreamPrefix.Length..];
            using var doc = JsonDocument.Parse(e.Data);
            var data = doc.RootElement.Clone();
            string? userId = null;
            var name = NameOf(e.Type);
            switch (name)
            {
                case RealtimeTypes.MessagePosted:
                    data = MessageData(e, channelId);
                    break;
                case RealtimeTypes.MemberJoined or RealtimeTypes.MemberLeft:
                    userId = data.TryGetProperty("userId", out var u) ? u.GetString() : null;
                    break;
                case RealtimeTypes.MessagePinned or RealtimeTypes.MessageUnpinned:
                    data = PinData(data, channelId, name == RealtimeTypes.MessagePinned, e.CreatedAt);
                    break;
                case "channel.renamed" or "channel.topic_set":
                    // API.md names one client event for both: channel.updated.
                    name = RealtimeTypes.ChannelUpdated;
                    break;
            }
            return new PushMessage(name, channelId, e.Version, e.Position, e.TxId, e.Position, e.CreatedAt, data, userId);
        }
        if (StreamNames.IsUser(e.StreamId) && NameOf(e.Type) == RealtimeTypes.ReadMarker)
        {
            var marker = JsonSerializer.Deserialize<ReadMarkerMoved>(e.Data, EventTypes.Json)!;
            var data = JsonSerializer.SerializeToElement(new { channelId = marker.ChannelId, seq = marker.Seq }, EventTypes.Json);
            return new PushMessage(RealtimeTypes.ReadMarker, marker.ChannelId, null, null, e.TxId, e.Position, e.CreatedAt, data, marker.UserId);
        }
        return null;
    }

    /// <summary>The stored type without its version: <c>message.posted.v1</c> is <c>message.posted</c>.</summary>
    public static string NameOf(string storedType) => VersionSuffix().Replace(storedType, "");

    /// <summary>A posted message as the history API shows it, plus <c>threadRootSeq</c>.</summary>
    private static JsonElement MessageData(RecordedEvent e, string channelId)
    {
        var m = JsonSerializer.Deserialize<MessagePosted>(e.Data, EventTypes.Json)!;
        return JsonSerializer.SerializeToElement(new
        {
            channelId,
            seq = e.Version,
            messageId = m.MessageId,
            userId = m.UserId,
            text = m.Text,
            threadRootSeq = m.ThreadRootSeq,
            mentions = m.Mentions,
            createdAt = e.CreatedAt,
            editedAt = (DateTimeOffset?)null,
            deleted = false,
            replyCount = 0,
            lastReplyAt = (DateTimeOffset?)null,
            reactions = Array.Empty<object>(),
            pinned = false,
            pinnedBy = (string?)null,
            pinnedAt = (DateTimeOffset?)null,
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
