using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EventSourcedChat.EventStore.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Listens to one host's own instruments (meter <see cref="ChatMetrics.MeterName"/>, or the meters named, created by
/// that host's <see cref="IMeterFactory"/>, so other hosts in the test process do not count), keeping every measurement.
/// </summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> _measurements = new();

    public MetricsRecorder(ChatHost host, params string[] meters)
    {
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        var names = meters.Length == 0 ? [ChatMetrics.MeterName] : meters;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (names.Contains(instrument.Meter.Name) && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Keep(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Keep(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Keep(i, v, tags));
        _listener.Start();
    }

    private void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }
        _measurements.Enqueue((instrument.Name, value, copy));
    }

    /// <summary>Every measurement of an instrument so far (observable instruments: collected now).</summary>
    public IReadOnlyList<(double Value, Dictionary<string, object?> Tags)> Of(string name, string? tag = null, object? tagValue = null)
    {
        _listener.RecordObservableInstruments();
        return _measurements.Where(m => m.Name == name && (tag is null || Equals(m.Tags.GetValueOrDefault(tag), tagValue)))
            .Select(m => (m.Value, m.Tags)).ToList();
    }

    /// <summary>The sum of a counter's (or histogram's count of) measurements so far.</summary>
    public double Sum(string name, string? tag = null, object? tagValue = null) => Of(name, tag, tagValue).Sum(m => m.Value);

    public int Count(string name, string? tag = null, object? tagValue = null) => Of(name, tag, tagValue).Count;

    /// <summary>The last value an observable instrument reported (collected now), or null.</summary>
    public double? Latest(string name, string? tag = null, object? tagValue = null) => Of(name, tag, tagValue) is { Count: > 0 } all ? all[^1].Value : null;

    public void Dispose() => _listener.Dispose();
}
