using System.Text.Json;

namespace EventSourcedChat.Contracts.Realtime;

/// <summary>
/// What the hub sends to clients with method <c>event</c> (API.md, "Realtime"): <c>{type, channelId?, seq?, position?, at, data}</c>.
/// </summary>
public sealed record RealtimeEnvelope(string Type, string? ChannelId, long? Seq, long? Position, DateTimeOffset At, JsonElement Data);
