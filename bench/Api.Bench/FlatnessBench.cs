using System.Diagnostics;
using System.Net;

namespace EventSourcedChat.ApiBench;

internal sealed record FlatnessResult(
    long SmallHistory, long BigHistory, int Samples, double SmallP50Ms, double BigP50Ms, double SmallP90Ms, double BigP90Ms)
{
    public double Ratio => BigP50Ms / SmallP50Ms;
}

/// <summary>
/// The cost of one post beside a short and a long channel history: sequential posts by one client, alternating
/// channels (and which goes first in each pair) so that drift in the machine's load falls on both alike.
/// </summary>
internal static class FlatnessBench
{
    public static async Task<FlatnessResult> RunAsync(
        ChatApi api, BenchUser user, string smallChannel, long smallHistory, string bigChannel, long bigHistory, int samples, int warmup)
    {
        var small = new long[samples];
        var big = new long[samples];
        var smallPath = ChatApi.MessagesPath(smallChannel);
        var bigPath = ChatApi.MessagesPath(bigChannel);
        for (var i = -warmup; i < samples; i++)
        {
            var smallFirst = (i & 1) == 0;
            var first = await TimeAsync(api, user, smallFirst ? smallPath : bigPath, i);
            var second = await TimeAsync(api, user, smallFirst ? bigPath : smallPath, i);
            if (i >= 0)
            {
                small[i] = smallFirst ? first : second;
                big[i] = smallFirst ? second : first;
            }
        }
        Array.Sort(small);
        Array.Sort(big);
        return new FlatnessResult(smallHistory, bigHistory, samples,
            Stats.PercentileMs(small, 0.5), Stats.PercentileMs(big, 0.5), Stats.PercentileMs(small, 0.9), Stats.PercentileMs(big, 0.9));
    }

    private static async Task<long> TimeAsync(ChatApi api, BenchUser user, string path, int i)
    {
        var body = ChatApi.PostBody($"flatness post {i}");
        var start = Stopwatch.GetTimestamp();
        var status = await api.PostMessageAsync(user, path, body);
        var ticks = Stopwatch.GetTimestamp() - start;
        return status == HttpStatusCode.Created
            ? ticks
            : throw new InvalidOperationException($"POST {path} answered {(int)status}.");
    }
}
