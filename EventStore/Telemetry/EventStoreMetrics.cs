using System.Diagnostics;
using System.Diagnostics.Metrics;
using EventSourcedChat.EventStore.Telemetry;

namespace EventSourcedChat.EventStore.Telemetry;

/// <summary>The event store's instruments (names in <see cref="ChatMetrics"/>): append latency and append sizes.</summary>
public sealed class EventStoreMetrics
{
    private readonly Histogram<double> _duration;
    private readonly Histogram<int> _events;

    public EventStoreMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(ChatMetrics.MeterName);
        _duration = meter.CreateHistogram<double>(ChatMetrics.AppendDuration, "s", "From the start of an append (or of its transaction) to its commit",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _events = meter.CreateHistogram<int>(ChatMetrics.AppendEvents, "{event}", "Events written by one append",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 3, 5, 10, 20, 50, 100] });
    }

    public void Committed(long startedAt) => _duration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds);

    public void Appended(int events) => _events.Record(events);
}
