using System.Diagnostics;

namespace EventSourcedChat.AuditBench;

/// <summary>
/// Reads a channel's whole as-of view (<c>GET /v1/audit/channels/{ch}/as-of?at=</c>) through the host, counting the
/// messages as the body streams in (nothing is kept), while sampling the host's resident set every 20 ms.
/// </summary>
internal static class AsOfRead
{
    // Every message object, and the answer itself, starts with its channelId.
    private static readonly byte[] Marker = "{\"channelId\":"u8.ToArray();

    public static async Task<(long Messages, long Bytes, double Seconds, double PeakRss)> ReadAsync(HttpClient http, HostProcess host, string path)
    {
        var peak = host.RssMiB();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, host.RssMiB());
                await Task.Delay(20);
            }
        });
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[(1 << 16) + Marker.Length];
        long objects = 0, bytes = 0;
        var carried = 0; // the tail of the previous read, so a marker split between two reads is still seen
        int read;
        while ((read = await body.ReadAsync(buffer.AsMemory(carried, 1 << 16))) > 0)
        {
            bytes += read;
            var window = buffer.AsSpan(0, carried + read);
            for (var at = window.IndexOf(Marker); at >= 0; at = window.IndexOf(Marker))
            {
                objects++;
                window = window[(at + Marker.Length)..];
            }
            carried = Math.Min(Marker.Length - 1, window.Length);
            window[^carried..].CopyTo(buffer);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        return (objects - 1, bytes, seconds, Math.Max(peak, host.RssMiB()));
    }
}
