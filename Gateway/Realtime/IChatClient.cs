using EventSourcedChat.Contracts.Realtime;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>What the server calls on a connected client.</summary>
public interface IChatClient
{
    /// <summary>Hub method <c>event</c>: every server-to-client message is one envelope.</summary>
    Task Event(RealtimeEnvelope envelope);
}
