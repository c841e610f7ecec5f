using System.Diagnostics;
using System.Net;

namespace EventSourcedChat.ApiBench;

/// <summary>One concurrent client of a throughput cell: who posts, and the channels it cycles through.</summary>
internal sealed record PostingClient(BenchUser User, IReadOnlyList<string> ChannelIds);

internal sealed record CellResult(
    string Name, int Clients, int Channels, string Note, long Posts, long Errors, double Seconds,
    double PerSecond, double P50Ms, double P99Ms, string? FirstError);

/// <summary>Fixed-duration closed-loop posting: each client posts, waits for the answer, posts again.</summary>
internal static class PostingBench
{
    /// <summary>No client sends more than this many posts in one cell, whatever the duration (a bounded loop).</summary>
    private const int MaxPostsPerClient = 2_000_000;

    public static async Task<CellResult> RunAsync(
        ChatApi api, string name, int channels, string note, IReadOnlyList<PostingClient> clients, TimeSpan warmup, TimeSpan duration)
    {
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureTo = measureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var latencies = new List<long>[clients.Count];
        var errors = new long[clients.Count];
        string? firstError = null;

        var tasks = clients.Select((client, i) => Task.Run(async () =>
        {
            var mine = latencies[i] = new List<long>(100_000);
            var paths = client.ChannelIds.Select(ChatApi.MessagesPath).ToArray();
            for (var n = 0; n < MaxPostsPerClient; n++)
            {
                var sent = Stopwatch.GetTimestamp();
                if (sent >= measureTo)
                {
                    break;
                }
                var body = ChatApi.PostBody($"bench {name} client {i} post {n}");
                HttpStatusCode status;
                try
                {
                    status = await api.PostMessageAsync(client.User, paths[n % paths.Length], body);
                }
                catch (HttpRequestException e)
                {
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                    errors[i]++;
                    continue;
                }
                var done = Stopwatch.GetTimestamp();
                if (status != HttpStatusCode.Created)
                {
                    // Counted over the whole cell, warm-up included: an error is never hidden by the window.
                    Interlocked.CompareExchange(ref firstError, $"HTTP {(int)status}", null);
                    errors[i]++;
                    continue;
                }
                // A post counts when it was sent after the warm-up and answered inside the window.
                if (sent >= measureFrom && done <= measureTo)
                {
                    mine.Add(done - sent);
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);

        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        var seconds = duration.TotalSeconds;
        return new CellResult(name, clients.Count, channels, note, all.Length, errors.Sum(), seconds, all.Length / seconds,
            Stats.PercentileMs(all, 0.50), Stats.PercentileMs(all, 0.99), firstError);
    }
}

internal static class Stats
{
    /// <summary>The nearest-rank percentile of sorted Stopwatch ticks, in milliseconds.</summary>
    public static double PercentileMs(long[] sortedTicks, double p)
    {
        if (sortedTicks.Length == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(p * sortedTicks.Length) - 1;
        return sortedTicks[Math.Clamp(rank, 0, sortedTicks.Length - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
