namespace EventSourcedChat.Gateway.Realtime;

/// <summary>The <c>Realtime</c> settings of a gateway node.</summary>
public sealed class RealtimeOptions
{
    /// <summary>The direct exchange the push worker sends to (<c>Realtime:Exchange</c>).</summary>
    public string Exchange { get; set; } = "chat.events";

    /// <summary>Most events a Resume replays; beyond it the client gets <c>resync.required</c>.</summary>
    public int MaxResumeBacklog { get; set; } = 10_000;

    /// <summary>How long a new connection's live channel events wait for a Resume call before going out without one.</summary>
    public TimeSpan ResumeGrace { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Events read per replay page.</summary>
    public int ResumePageSize { get; set; } = 500;

    /// <summary>
    /// How long the node waits between attempts to re-connect to the broker after losing it (<c>Realtime:RecoveryInterval</c>),
    /// plus a random share of up to half of it per node (2–3 s by default).
    /// </summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>This node's queue: <c>{Exchange}.gateway.{machine}.{guid}</c> unless set.</summary>
    public string? QueueName { get; set; }
}
