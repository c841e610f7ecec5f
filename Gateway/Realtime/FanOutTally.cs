using System.Diagnostics;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>What became of one live event offered to a connection (<see cref="ConnectionState.OfferLive"/>).</summary>
internal enum Offered
{
    /// <summary>Handed to the connection's socket now.</summary>
    Written,

    /// <summary>Held for a hand-over (before the connection's first Resume or <c>hello</c>, during a replay or a broker recovery); written later.</summary>
    Held,

    /// <summary>Already delivered (a second routing copy, a re-send, or replayed): not written again.</summary>
    Dropped,

    /// <summary>The write to the socket failed at once (the connection is going away).</summary>
    Failed,
}

/// <summary>
/// Counts what one node's fan-out of one event did, for the event's <c>chat.deliver</c> span (only read when the event
/// is traced): a few integers per event, nothing per connection beyond an increment.
/// </summary>
internal struct FanOutTally
{
    private ConnectionState? _firstWritten;

    public int Connections { get; private set; }

    public int Written { get; private set; }

    public int Held { get; private set; }

    public int Failed { get; private set; }

    public void Add(ConnectionState target, Offered offered)
    {
        Connections++;
        switch (offered)
        {
            case Offered.Written:
                Written++;
                _firstWritten ??= target;
                break;
            case Offered.Held:
                Held++;
                break;
            case Offered.Failed:
                Failed++;
                break;
        }
    }

    /// <summary>
    /// Tags the node's delivery span: node, position, connections offered, written, held, failed, and the bytes written
    /// (the event's frame is serialized once, so its size times the connections written to).
    /// </summary>
    public readonly void Tag(Activity deliver, LiveEvent live, string node, long position)
    {
        deliver.SetTag("chat.gateway.node", node);
        deliver.SetTag("chat.position", position);
        deliver.SetTag("chat.connections", Connections);
        deliver.SetTag("chat.written", Written);
        deliver.SetTag("chat.held", Held);
        deliver.SetTag("chat.failed", Failed);
        deliver.SetTag("chat.bytes", _firstWritten is null ? 0L : (long)_firstWritten.FrameBytes(live) * Written);
        if (Failed > 0)
        {
            deliver.SetStatus(ActivityStatusCode.Error, $"{Failed} of {Connections} socket writes failed");
        }
    }
}
