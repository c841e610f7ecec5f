using System.Diagnostics.Metrics;
using EventSourcedChat.EventStore.Telemetry;

namespace EventSourcedChat.Projections.Push;

/// <summary>The push worker's instruments (names in <see cref="ChatMetrics"/>); its lag is a runner gauge (<see cref="Infrastructure.RunnerLagMetrics"/>).</summary>
public sealed class PushMetrics
{
    private readonly Counter<long> _sent;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _restarts;

    public PushMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(ChatMetrics.MeterName);
        _sent = meter.CreateCounter<long>(ChatMetrics.PushSent, "{event}", "Events sent to the broker and confirmed");
        _timeouts = meter.CreateCounter<long>(ChatMetrics.PushConfirmTimeouts, "{batch}", "Batches not confirmed in time");
        _restarts = meter.CreateCounter<long>(ChatMetrics.PushRestarts, "{restart}", "Runs started again from the checkpoint after an error");
    }

    public void Sent(int events) => _sent.Add(events);

    public void ConfirmTimedOut() => _timeouts.Add(1);

    public void Restarted() => _restarts.Add(1);
}
