using System.Text.Json;

namespace EventSourcedChat.Contracts.Realtime;

/// <summary>
/// What the push worker sends to the <c>chat.events</c> exchange and gateways receive: the client envelope
/// (<c>{type, channelId, seq, position, at, data}</c>, see <see cref="RealtimeEnvelope"/>) plus internal routing
/// information. Sent as plain JSON (<c>EventTypes.Json</c>), routed with <see cref="RoutingKeys"/>.
/// </summary>
/// <param name="Type">The client event type (<see cref="RealtimeTypes"/>, or a stored type without its version).</param>
/// <param name="Seq">The channel stream version; null for user-stream events (<c>read.marker</c>).</param>
/// <param name="Position">The global position shown to clients; null for user-stream events.</param>
/// <param name="TxId">The id of the transaction that appended the event (with <paramref name="LogPosition"/> the subscription cursor).</param>
/// <param name="LogPosition">The event's global position, always set.</param>
/// <param name="UserId">The user concerned: the member who joined or left, or the owner of a read marker.</param>
/// <param name="TraceParent">The W3C traceparent of the push worker's span for this event (which continues the
/// appending request's trace), when that trace is sampled; gateways continue it. Not part of the client envelope.</param>
/// <param name="WorkspaceIds">For <c>user.updated</c>: the workspaces whose members are told (routed with
/// <see cref="RoutingKeys.Workspace"/>). Not part of the client envelope.</param>
public sealed record PushMessage(
    string Type, string? ChannelId, long? Seq, long? Position, ulong TxId, long LogPosition,
    DateTimeOffset At, JsonElement Data, string? UserId, string? TraceParent = null, IReadOnlyList<string>? WorkspaceIds = null)
{
    /// <summary>True for events of a channel stream (replayed on Resume, ordered by cursor).</summary>
    public bool IsChannelEvent => Seq is not null;

    /// <summary>The envelope clients receive (hub method <c>event</c>): the message without its routing information.</summary>
    public RealtimeEnvelope ToEnvelope() => new(Type, ChannelId, Seq, Position, At, Data);
}
