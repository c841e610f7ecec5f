using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// A live event from the broker with its hub message (<c>event</c> with the envelope), serialized at most once per
/// protocol whatever the number of connections it goes to.
/// </summary>
internal sealed class LiveEvent(PushMessage message)
{
    /// <summary>The hub method clients receive (what the typed <see cref="IChatClient.Event"/> sends).</summary>
    public const string Method = nameof(IChatClient.Event);

    public PushMessage Message { get; } = message;

    /// <summary>The message's subscription cursor (transaction id, position): the order of delivery.</summary>
    public LogCursor Cursor { get; } = CursorOf(message);

    public SerializedHubMessage Payload { get; } = Serialize(message.ToEnvelope());

    public static LogCursor CursorOf(PushMessage m) => new(m.TxId, m.LogPosition);

    public static SerializedHubMessage Serialize(RealtimeEnvelope envelope) => new(new InvocationMessage(Method, [envelope]));
}
