using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourcedChat.ReadSideBench;

namespace EventSourcedChat.RealtimeBench;

/// <summary>A channel of the scenarios: its id, its index in <see cref="Deliveries"/>, its members (user indexes).</summary>
internal sealed record BenchChannel(string Id, int Index, IReadOnlyList<int> Members);

/// <summary>
/// A named shape of issue 16: the channels posted into (one at random per post) and who posts (a random one of the
/// senders of that channel), with the rates its sweep tries, lowest first.
/// </summary>
internal sealed record Scenario(string Name, IReadOnlyList<BenchChannel> Channels, Func<BenchChannel, IReadOnlyList<int>> Senders, double[] Rates);

/// <summary>One rate of a sweep: what was sent and acknowledged, delivered, how late, and the CPU it took per process.</summary>
internal sealed record Cell(double Rate, double Achieved, long Posts, long Errors, double DeliveriesPerSecond, double P50Ms, double P99Ms,
    long Lost, long Duplicates, long OutOfOrder, ProcessCpu Cpu, double Seconds, double AckP50Ms = 0, double AckP99Ms = 0)
{
    /// <summary>Passes: p99 under the target, nothing lost, repeated or out of order, no error, and the asked rate achieved (95 %).</summary>
    public bool Passes(double targetMs) =>
        P99Ms < targetMs && Lost == 0 && Duplicates == 0 && OutOfOrder == 0 && Errors == 0 && Achieved >= Rate * 0.95;
}

/// <summary>
/// Runs one rate of a scenario against a running host: an open-loop sender (post <c>i</c> due at <c>start + i/rate</c>,
/// at most <c>inFlight</c> waiting for their answer), a warm-up then a measured window, then a drain; latency is POST
/// sent -> frame received at each member, for posts sent in the measured window.
/// </summary>
internal sealed class ScenarioSweep(HttpClient http, int hostPid, Deliveries deliveries, AuthenticationHeaderValue[] authorizations, int inFlight)
{
    public async Task<Cell> RunAsync(Scenario scenario, int run, double rate, TimeSpan warmup, TimeSpan duration, TimeSpan drain)
    {
        var (dup0, ooo0) = (deliveries.Duplicates, deliveries.OutOfOrder);
        var rng = new Random(run);
        using var slots = new SemaphoreSlim(inFlight, inFlight);
        var pending = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + Ticks(warmup);
        var end = measureFrom + Ticks(duration);
        long issued = 0, measured = 0, errors = 0;
        var acks = new System.Collections.Concurrent.ConcurrentBag<long>();
        ProcessCpu? cpuFrom = null;
        while (Stopwatch.GetTimestamp() < end)
        {
            if (cpuFrom is null && Stopwatch.GetTimestamp() >= measureFrom)
            {
                cpuFrom = ProcessCpu.Read(hostPid);
            }
            var due = (long)((Stopwatch.GetTimestamp() - start) * rate / Stopwatch.Frequency);
            while (issued < due && Stopwatch.GetTimestamp() < end)
            {
                await slots.WaitAsync();
                issued++;
                var channel = scenario.Channels[rng.Next(scenario.Channels.Count)];
                var senders = scenario.Senders(channel);
                var user = senders[rng.Next(senders.Count)];
                pending.Add(Task.Run(async () =>
                {
                    try
                    {
                        var (status, seq, sent) = await PostAsync(channel, user, run);
                        var acknowledged = Stopwatch.GetTimestamp();
                        if (status == HttpStatusCode.Created)
                        {
                            deliveries.Posted(run, channel.Index, seq);
                            if (sent >= measureFrom)
                            {
                                acks.Add(acknowledged - sent);
                                Interlocked.Increment(ref measured);
                            }
                        }
                        else
                        {
                            Interlocked.Increment(ref errors);
                        }
                    }
                    finally
                    {
                        slots.Release();
                    }
                }));
            }
            await Task.Delay(1);
        }
        var cpu = ProcessCpu.Read(hostPid) - (cpuFrom ?? ProcessCpu.Read(hostPid));
        await Task.WhenAll(pending);
        var byIndex = scenario.Channels.ToDictionary(c => c.Index);
        var expected = deliveries.Expected(run, c => byIndex[c].Members);
        var drainUntil = Stopwatch.GetTimestamp() + Ticks(drain);
        while (deliveries.Received(run) < expected && Stopwatch.GetTimestamp() < drainUntil)
        {
            await Task.Delay(20);
        }
        var samples = deliveries.Samples(run);
        var inWindow = samples.LongCount(s => s.Received >= measureFrom && s.Received < end);
        var latencies = samples.Where(s => s.Sent >= measureFrom && s.Sent < end).Select(s => s.Received - s.Sent).ToList();
        return new Cell(rate, measured / duration.TotalSeconds, measured, errors, inWindow / duration.TotalSeconds,
            Stats.PercentileMs(latencies, 0.5), Stats.PercentileMs(latencies, 0.99), deliveries.Lost(run, c => byIndex[c].Members),
            deliveries.Duplicates - dup0, deliveries.OutOfOrder - ooo0, cpu, duration.TotalSeconds,
            Stats.PercentileMs([.. acks], 0.5), Stats.PercentileMs([.. acks], 0.99));
    }

    private async Task<(HttpStatusCode Status, long Seq, long Sent)> PostAsync(BenchChannel channel, int user, int run)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{channel.Id}/messages");
        request.Headers.Authorization = authorizations[user];
        var sent = Stopwatch.GetTimestamp();
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { text = Deliveries.Text(run, sent), clientMsgId = Guid.NewGuid().ToString("N") }));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content = content;
        try
        {
            using var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                return (response.StatusCode, -1, sent);
            }
            await using var body = await response.Content.ReadAsStreamAsync();
            using var doc = await JsonDocument.ParseAsync(body);
            return (response.StatusCode, doc.RootElement.GetProperty("seq").GetInt64(), sent);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (HttpStatusCode.ServiceUnavailable, -1, sent);
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
