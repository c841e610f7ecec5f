namespace EventSourcedChat.Gateway.Realtime;

/// <summary>Counts of the resume hand-over on this node (tests and diagnostics).</summary>
public sealed class HandOverStats
{
    /// <summary>Live channel events that arrived while a Resume replayed.</summary>
    public long BufferedDuringReplay;

    /// <summary>Held live events delivered after a replay or grace.</summary>
    public long Flushed;

    /// <summary>Held live events dropped because the replay had delivered them.</summary>
    public long DroppedAsDelivered;

    /// <summary>Broker connection recoveries after which every connection's hand-over was re-run.</summary>
    public long Recoveries;
}
