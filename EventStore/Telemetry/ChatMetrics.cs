namespace EventSourcedChat.EventStore.Telemetry;

/// <summary>
/// The names of the service's own OpenTelemetry instruments (meter <see cref="MeterName"/>), defined once: the projects
/// that record them, the tests that watch them and docs/observability.md use these.
/// </summary>
public static class ChatMetrics
{
    public const string MeterName = "EventSourcedChat";

    /// <summary>Seconds from the start of an append (or of the transaction it runs in) to its commit. Histogram, <c>s</c>.</summary>
    public const string AppendDuration = "chat.append.duration";

    /// <summary>Events written by one append. Histogram, <c>{event}</c>.</summary>
    public const string AppendEvents = "chat.append.events";

    /// <summary>Events between a runner's checkpoint and the head of the log, tag <see cref="RunnerTag"/>. Gauge, <c>{event}</c>.</summary>
    public const string RunnerLagEvents = "chat.runner.lag.events";

    /// <summary>How long the oldest event a runner has not applied has waited (0 when caught up), tag <see cref="RunnerTag"/>. Gauge, <c>s</c>.</summary>
    public const string RunnerLagSeconds = "chat.runner.lag.seconds";

    /// <summary>Runner name: a projection (<c>history</c>, <c>directory</c>, <c>unread</c>, <c>search</c>) or <c>push</c>.</summary>
    public const string RunnerTag = "chat.runner";

    /// <summary>Events the push worker sent to the broker and had confirmed. Counter, <c>{event}</c>.</summary>
    public const string PushSent = "chat.push.sent";

    /// <summary>Batches the broker did not confirm within <c>Realtime:PushConfirmTimeout</c>. Counter, <c>{batch}</c>.</summary>
    public const string PushConfirmTimeouts = "chat.push.confirm_timeouts";

    /// <summary>Times the push worker started again from its checkpoint after an error (its batch is sent again). Counter, <c>{restart}</c>.</summary>
    public const string PushRestarts = "chat.push.restarts";

    /// <summary>Events written to a client connection by this gateway. Counter, <c>{delivery}</c>.</summary>
    public const string Deliveries = "chat.gateway.deliveries";

    /// <summary>Seconds from an event's append to its write to a connection (live fan-out). Histogram, <c>s</c>.</summary>
    public const string DeliveryLatency = "chat.gateway.delivery.latency";

    /// <summary>Live hub connections on this gateway. UpDownCounter, <c>{connection}</c>.</summary>
    public const string Connections = "chat.gateway.connections";

    /// <summary>Channels this gateway is bound to on the broker (one binding per channel with a local member). UpDownCounter, <c>{binding}</c>.</summary>
    public const string Bindings = "chat.gateway.bindings";

    /// <summary>Resume calls of clients handled by this gateway. Counter, <c>{resume}</c>.</summary>
    public const string Resumes = "chat.gateway.resumes";

    /// <summary><c>resync.required</c> events sent by this gateway (cursor unknown, backlog too large, failed hand-over). Counter, <c>{event}</c>.</summary>
    public const string ResyncRequired = "chat.gateway.resync_required";

    /// <summary>Delivery kind tag of <see cref="Deliveries"/>: <c>live</c> (from the broker) or <c>replayed</c> (from the log, on Resume).</summary>
    public const string DeliveryKindTag = "chat.delivery.kind";

    /// <summary>Presence changes (a user going active, away or offline) this gateway received from Redis to pass on. Counter, <c>{change}</c>.</summary>
    public const string PresenceChanges = "chat.presence.changes";

    /// <summary>Typing notices from this gateway's clients published to the other nodes (after the per-user throttle). Counter, <c>{notice}</c>.</summary>
    public const string TypingNotices = "chat.typing.notices";
}
