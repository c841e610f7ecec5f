using System.Diagnostics.Metrics;
using EventSourcedChat.EventStore.Telemetry;

namespace EventSourcedChat.Gateway.Telemetry;

/// <summary>The gateway's instruments (names in <see cref="ChatMetrics"/>): deliveries, connections, resumes, presence, typing.</summary>
public sealed class GatewayMetrics
{
    private static readonly KeyValuePair<string, object?> Live = new(ChatMetrics.DeliveryKindTag, "live");
    private static readonly KeyValuePair<string, object?> Replayed = new(ChatMetrics.DeliveryKindTag, "replayed");

    private readonly Meter _meter;
    private readonly Counter<long> _deliveries;
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _resumes;
    private readonly Counter<long> _resyncs;
    private readonly Counter<long> _presence;
    private readonly Counter<long> _typing;
    private readonly TimeProvider _time;

    public GatewayMetrics(IMeterFactory meters, TimeProvider time)
    {
        _time = time;
        _meter = meters.Create(ChatMetrics.MeterName);
        _deliveries = _meter.CreateCounter<long>(ChatMetrics.Deliveries, "{delivery}", "Channel events written to client connections");
        _latency = _meter.CreateHistogram<double>(ChatMetrics.DeliveryLatency, "s", "From an event's append to its live write to a connection",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _resumes = _meter.CreateCounter<long>(ChatMetrics.Resumes, "{resume}", "Resume calls handled");
        _resyncs = _meter.CreateCounter<long>(ChatMetrics.ResyncRequired, "{event}", "resync.required events sent");
        _presence = _meter.CreateCounter<long>(ChatMetrics.PresenceChanges, "{change}", "Presence changes received to pass on");
        _typing = _meter.CreateCounter<long>(ChatMetrics.TypingNotices, "{notice}", "Typing notices published");
    }

    /// <summary>Observes the node's live connections and broker bindings (read when the metrics are collected).</summary>
    public void Observe(Func<int> connections, Func<int> bindings)
    {
        _meter.CreateObservableUpDownCounter(ChatMetrics.Connections, () => connections(), "{connection}", "Live hub connections");
        _meter.CreateObservableUpDownCounter(ChatMetrics.Bindings, () => bindings(), "{binding}", "Channels bound on the broker");
    }

    public void DeliveredLive(DateTimeOffset appendedAt)
    {
        _deliveries.Add(1, Live);
        if (_latency.Enabled) // per delivery on the fan-out path: no clock read unless someone listens
        {
            _latency.Record(Math.Max(0, (_time.GetUtcNow() - appendedAt).TotalSeconds));
        }
    }

    public void DeliveredReplayed() => _deliveries.Add(1, Replayed);

    public void Resumed() => _resumes.Add(1);

    public void ResyncRequired() => _resyncs.Add(1);

    public void PresenceChanged() => _presence.Add(1);

    public void Typed() => _typing.Add(1);
}
