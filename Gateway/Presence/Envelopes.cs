using System.Text.Json;
using EventSourcedChat.Contracts.Realtime;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>The ephemeral envelopes (API.md "Realtime"): never persisted, never replayed.</summary>
public static class Envelopes
{
    public const string Active = "active";
    public const string Away = "away";
    public const string Offline = "offline";

    /// <summary>What presence reads as when Redis does not answer.</summary>
    public const string Unknown = "unknown";

    public static RealtimeEnvelope Presence(string userId, string status) =>
        new("presence.changed", null, null, null, DateTimeOffset.UtcNow, JsonSerializer.SerializeToElement(new { userId, status }));

    public static RealtimeEnvelope Typing(string channelId, string userId) =>
        new("typing", channelId, null, null, DateTimeOffset.UtcNow, JsonSerializer.SerializeToElement(new { userId, channelId }));
}
