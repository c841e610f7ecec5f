using System.Diagnostics;

namespace EventSourcedChat.EventStore.Telemetry;

/// <summary>
/// The service's own spans (source <see cref="SourceName"/>) and the trace context that travels with an event: the
/// appending request's <c>traceparent</c> is stored with the event (<c>es_events.trace_parent</c>), the push worker's
/// span continues it and hands its own on in the push message, and each gateway's delivery span continues that one.
/// </summary>
public static class ChatActivity
{
    public const string SourceName = ChatMetrics.MeterName;

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Per event sent by the push worker (until the broker confirmed its batch).</summary>
    public const string Push = "chat.push";

    /// <summary>
    /// Per event a gateway fans out to its local connections, until it was handed to each of their sockets (one span
    /// per event and node, tagged with the connections, writes, bytes and failures; no span per connection).
    /// </summary>
    public const string Deliver = "chat.deliver";

    /// <summary>The traceparent to store with an append: the current span's, when it is sampled (W3C only); else null.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { Recorded: true, IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>
    /// Starts a span continuing <paramref name="traceParent"/> (null when there is none, nobody listens, it does not
    /// parse, or nobody samples it). Without a listener (telemetry off) it costs a null check: no parse, no allocation.
    /// </summary>
    public static Activity? StartFrom(string name, ActivityKind kind, string? traceParent) =>
        traceParent is not null && Source.HasListeners() && ActivityContext.TryParse(traceParent, null, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : null;
}
