using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace EventSourcedChat.RealtimeBench;

/// <summary>
/// The host's memory after a full GC induced in it: resident set (VmRSS), the GC heap it reports (generation sizes,
/// which include free space between surviving objects) and the bytes that survived that GC (its live objects).
/// </summary>
internal readonly record struct MemoryReading(long RssKb, long GcHeapKb, long LiveKb);

internal static class HostMemory
{
    /// <summary>The GCHeapCollect keyword: a session that enables it makes the process run a full, blocking GC.</summary>
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>
    /// Induces a full GC in the host through its diagnostic port (what <c>dotnet-trace --profile gc-collect</c>
    /// does), keeps the GC heap size of the last GCHeapStats event, and reads VmRSS. Without the GC, garbage left by
    /// the connects (handshakes, token checks, directory reads) would count as memory held per connection.
    /// </summary>
    public static async Task<MemoryReading> AfterGcAsync(int pid)
    {
        long heap = -1;
        long live = -1;
        try
        {
            var client = new DiagnosticsClient(pid);
            using var session = client.StartEventPipeSession(
                [HostGc.RuntimeProvider(HostGc.GcKeyword | GcHeapCollectKeyword)],
                requestRundown: false);
            var reading = Task.Run(() =>
            {
                using var source = new EventPipeEventSource(session.EventStream);
                source.Clr.GCHeapStats += e =>
                {
                    Interlocked.Exchange(ref heap,
                        (e.GenerationSize0 + e.GenerationSize1 + e.GenerationSize2 + e.GenerationSize3 + e.GenerationSize4) / 1024);
                    // After a full GC, what it promoted (kept) from every generation is every live object.
                    Interlocked.Exchange(ref live,
                        (e.TotalPromotedSize0 + e.TotalPromotedSize1 + e.TotalPromotedSize2 + e.TotalPromotedSize3 + e.TotalPromotedSize4) / 1024);
                };
                source.Process();
            });
            await Task.Delay(TimeSpan.FromSeconds(3));
            await session.StopAsync(CancellationToken.None);
            await reading.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is ServerNotAvailableException or DiagnosticsClientException or IOException or TimeoutException or EndOfStreamException)
        {
            Console.WriteLine($"  (GC in {pid} not induced or not read: {e.Message})");
        }
        await Task.Delay(TimeSpan.FromSeconds(1));
        return new MemoryReading(RssKb(pid), Interlocked.Read(ref heap), Interlocked.Read(ref live));
    }

    public static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }
}
