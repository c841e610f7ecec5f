using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace EventSourcedChat.RealtimeBench;

/// <summary>One of the host's GC pauses: when its threads were stopped (UTC), for how long, the generation collected
/// and the bytes that survived it (moved to an older generation).</summary>
internal readonly record struct GcPause(DateTime At, double Ms, int Generation, long PromotedBytes);

/// <summary>
/// Follows the host's GC pauses live over its diagnostic port (an EventPipe session with the runtime's GC keyword at the
/// informational level: no allocation sampling, no stacks), from the suspension of its threads to their restart.
/// </summary>
/// <remarks>
/// Why: a blocking gen1 collection that promotes what the 1,000 connections and the warm-up left in the young
/// generations stops the host for 30 to 100 ms on this machine (20 to 37 MB promoted), about 20 to 40 s after the clients
/// connect; one such pause in a measured window decides its p99. The warm-up waits for those to be over
/// (<see cref="Settled"/>), and every cell prints the pauses of its window.
/// </remarks>
internal sealed class HostGc : IDisposable
{
    /// <summary>The runtime provider's GC keyword (GCSuspendEE, GCStart, GCHeapStats, GCRestartEE).</summary>
    public const long GcKeyword = 0x1;

    /// <summary>The runtime's event provider at the informational level with <paramref name="keywords"/> (no stacks, no allocation sampling).</summary>
    public static EventPipeProvider RuntimeProvider(long keywords) =>
        new("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, keywords);

    /// <summary>A gen1 collection that promoted less than this is one of the steady state's, not the settling of the connects.</summary>
    public const long SettledPromotion = 4 * 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly List<GcPause> _pauses = [];
    private readonly EventPipeSession? _session;
    private readonly Task _reading = Task.CompletedTask;

    public HostGc(int pid)
    {
        try
        {
            _session = new DiagnosticsClient(pid).StartEventPipeSession([RuntimeProvider(GcKeyword)], requestRundown: false);
            _reading = Task.Run(Read);
        }
        catch (Exception e) when (e is ServerNotAvailableException or DiagnosticsClientException or IOException or TimeoutException)
        {
            Console.WriteLine($"  (the GC pauses of {pid} are not followed: {e.Message})");
        }
    }

    /// <summary>False when the session could not be started (then nothing waits for the GC, and the cells say so).</summary>
    public bool Following => _session is not null;

    private void Read()
    {
        using var source = new EventPipeEventSource(_session!.EventStream);
        DateTime suspended = default;
        var generation = -1;
        long promoted = 0;
        source.Clr.GCSuspendEEStart += e => suspended = e.TimeStamp.ToUniversalTime();
        source.Clr.GCStart += e => generation = e.Depth;
        source.Clr.GCHeapStats += e => promoted = e.TotalPromotedSize0 + e.TotalPromotedSize1 + e.TotalPromotedSize2;
        source.Clr.GCRestartEEStop += e =>
        {
            if (suspended == default)
            {
                return;
            }
            var pause = new GcPause(suspended, (e.TimeStamp.ToUniversalTime() - suspended).TotalMilliseconds, generation, promoted);
            lock (_gate)
            {
                _pauses.Add(pause);
            }
            (suspended, generation, promoted) = (default, -1, 0);
        };
        try
        {
            source.Process();
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            // The host went away (the bench stops it at the end).
        }
    }

    /// <summary>
    /// The host's young generations have taken in the connects and the warm-up: a gen1 collection happened since
    /// <paramref name="since"/> and the last one promoted less than <see cref="SettledPromotion"/> (a background gen2
    /// reports what it kept only after its pause, so only gen1 counts). True when the pauses are not followed.
    /// </summary>
    public bool Settled(DateTime since, out GcPause? last)
    {
        lock (_gate)
        {
            last = _pauses.LastOrDefault(p => p.At >= since && p.Generation == 1) is { Generation: 1 } found ? found : null;
            return !Following || last is { PromotedBytes: < SettledPromotion };
        }
    }

    /// <summary>The pauses that began in [<paramref name="from"/>, <paramref name="to"/>), for a cell's line.</summary>
    public string Describe(DateTime from, DateTime to)
    {
        if (!Following)
        {
            return "GC pauses not followed";
        }
        List<GcPause> window;
        lock (_gate)
        {
            window = [.. _pauses.Where(p => p.At >= from && p.At < to)];
        }
        if (window.Count == 0)
        {
            return "GC pauses 0";
        }
        var longest = window.MaxBy(p => p.Ms);
        return string.Create(CultureInfo.InvariantCulture,
            $"GC pauses {window.Count}, longest {longest.Ms:F1} ms (gen{longest.Generation}, {longest.PromotedBytes / 1048576.0:F1} MB promoted), total {window.Sum(p => p.Ms):F0} ms");
    }

    public void Dispose()
    {
        try
        {
            _session?.Stop();
        }
        catch (Exception e) when (e is ServerNotAvailableException or DiagnosticsClientException or IOException or TimeoutException or EndOfStreamException)
        {
            // The host is already gone.
        }
        _reading.Wait(TimeSpan.FromSeconds(5));
        _session?.Dispose();
    }
}
