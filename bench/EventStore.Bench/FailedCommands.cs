using System.Diagnostics.Metrics;

namespace EventSourcedChat.Bench;

/// <summary>
/// Counts the commands Npgsql reports as failed (its <c>db.client.operation.failed</c> metric). During an append
/// phase the only possible failure is ES40R (with ExpectedVersion.Any and fresh event ids), which
/// <c>AppendAsync</c> retries internally: this makes those hidden retries visible.
/// </summary>
public sealed class FailedCommands : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public FailedCommands()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name == "db.client.operation.failed")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, _, _) => Interlocked.Add(ref _count, value));
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
