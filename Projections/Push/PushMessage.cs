using System.Text.Json;
using System.Text.RegularExpressions;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Projections.Push;

/// <summary>
/// What the push worker sends to the <c>chat.events</c> exchange and gateways receive: the client envelope
/// (<c>{type, channelId, seq, position, at, data}</c>) plus internal routing information.
/// </summary>
/// <param name="Seq">The channel stream version; null for user-stream events (<c>read.marker</c>).</param>
/// <param name="Position">The global position shown to clients; null for user-stream events.</param>
/// <param name="LogPosition">The event's global position, always set (with <paramref name="TxId"/> the subscription cursor).</param>
/// <param name="UserId">The user concerned: the member who joined or left, or the owner of a read marker.</param>
public sealed record PushMessage(
    string Type, string? ChannelId, long? Seq, long? Position, ulong TxId, long LogPosition,
    DateTimeOffset At, JsonElement Data, string? UserId)
{
    public LogCursor Cursor => new(TxId, LogPosition);

    /// <summary>True for events of a channel stream (replayed on Resume, ordered by cursor).</summary>
    public bool IsChannelEvent => Seq is not null;
}

/// <summary>Maps stored events to push messages and their routing keys (channel id, <c>user.{id}</c>).</summary>
public static partial class PushRouting
{
    public const string ChannelStreamPrefix = StreamNames.ChannelPrefix;

    public static string UserKey(string userId) => $"user.{userId}";

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
                case "message.posted":
                    data = MessageData(e, channelId);
                    break;
                case "member.joined" or "member.left":
                    userId = data.TryGetProperty("userId", out var u) ? u.GetString() : null;
                    break;
                case "channel.renamed" or "channel.topic_set":
                    // API.md names one client event for both: channel.updated.
                    name = "channel.updated";
                    break;
            }
            return new PushMessage(name, channelId, e.Version, e.Position, e.TxId, e.Position, e.CreatedAt, data, userId);
        }
        if (StreamNames.IsUser(e.StreamId) && NameOf(e.Type) == "read.marker")
        {
            var marker = JsonSerializer.Deserialize<ReadMarkerMoved>(e.Data, EventTypes.Json)!;
            var data = JsonSerializer.SerializeToElement(new { channelId = marker.ChannelId, seq = marker.Seq }, EventTypes.Json);
            return new PushMessage("read.marker", marker.ChannelId, null, null, e.TxId, e.Position, e.CreatedAt, data, marker.UserId);
        }
        return null;
    }

    /// <summary>The routing keys a message is sent with: its channel, and the user concerned for member and marker events.</summary>
    public static IEnumerable<string> KeysOf(PushMessage m)
    {
        if (m.IsChannelEvent && m.ChannelId is not null)
        {
            yield return m.ChannelId;
        }
        if (m.UserId is not null)
        {
            yield return UserKey(m.UserId);
        }
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
        }, EventTypes.Json);
    }

    [GeneratedRegex(@"\.v[0-9]+$")]
    private static partial Regex VersionSuffix();
}
