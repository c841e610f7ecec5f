using System.Globalization;
using EventSourcedChat.ApiBench;

namespace EventSourcedChat.RealtimeBench;

/// <summary>
/// The cost of OpenTelemetry export on the realtime path: the fan-out of <see cref="FanOutSide"/> against the host
/// with telemetry off and on (OTLP/HTTP to a receiver in this process that reads and discards), in rounds that
/// alternate which side goes first, with a fresh host process for each side; per round and median figures, on/off.
/// </summary>
internal static class TelemetryCostBench
{
    private const double Target = 0.95;

    /// <param name="onEnvironment">More environment for the "on" side only (e.g. <c>OTEL_TRACES_SAMPLER=always_off</c>).</param>
    public static async Task<int> RunAsync(FanOutTarget target, int rounds, TimeSpan warmup, TimeSpan duration, int window,
        IReadOnlyDictionary<string, string> onEnvironment)
    {
        if (rounds < 1 || rounds > 30)
        {
            throw new ArgumentOutOfRangeException(nameof(rounds), rounds, "1 to 30 rounds (the bench tracks at most 64 runs).");
        }
        using var receiver = new DiscardingOtlpReceiver();
        Console.WriteLine($"OTLP/HTTP receiver at {receiver.Endpoint}; the on side's host also gets: {(onEnvironment.Count == 0 ? "nothing more" : string.Join(' ', onEnvironment.Select(kv => $"{kv.Key}={kv.Value}")))}");
        var pairs = new List<(SideResult Off, SideResult On, bool OnFirst)>();
        // One side first that is not reported: the first host after the seed warms PostgreSQL, RabbitMQ and the page cache.
        var run = 1;
        var warm = await FanOutSide.RunAsync(target, target.HostEnvironment, run, warmup, duration, window);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  warm-up side (telemetry off, not counted): {warm.DeliveriesPerSecond:F0} deliveries/s, p99 {warm.P99Ms:F1} ms, lost {warm.Lost}; {Load()}"));
        for (var round = 1; round <= rounds; round++)
        {
            // Alternate which side goes first, so a drift of the machine over the run does not favour one side.
            var onFirst = round % 2 == 0;
            SideResult? off = null, on = null;
            foreach (var telemetry in onFirst ? new[] { true, false } : [false, true])
            {
                var environment = new Dictionary<string, string>(target.HostEnvironment);
                if (telemetry)
                {
                    environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint;
                    environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                    environment["OTEL_METRIC_EXPORT_INTERVAL"] = "5000";
                    foreach (var (key, value) in onEnvironment)
                    {
                        environment[key] = value;
                    }
                }
                var side = await FanOutSide.RunAsync(target, environment, ++run, warmup, duration, window);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round} telemetry {(telemetry ? "on " : "off")}: {side.DeliveriesPerSecond,8:F0} deliveries/s ({side.PostsPerSecond:F1} posts/s)  " +
                    $"p50 {side.P50Ms:F1} ms  p99 {side.P99Ms:F1} ms  lost {side.Lost} dup {side.Duplicates} out-of-order {side.OutOfOrder} errors {side.Errors}  " +
                    $"host CPU {side.HostCpuSeconds:F1} s = {side.HostCpuMicrosPerDelivery:F1} us/delivery; {Load()}"));
                if (telemetry)
                {
                    on = side;
                }
                else
                {
                    off = side;
                }
            }
            pairs.Add((off!, on!, onFirst));
        }
        Print(pairs, target.Tokens.Length, warmup, duration, window);
        var ratio = Median(pairs.Select(p => p.On.DeliveriesPerSecond)) / Median(pairs.Select(p => p.Off.DeliveriesPerSecond));
        var ratios = pairs.Select(p => p.On.DeliveriesPerSecond / p.Off.DeliveriesPerSecond).ToList();
        var cpuRatios = pairs.Select(p => p.On.HostCpuMicrosPerDelivery / p.Off.HostCpuMicrosPerDelivery).ToList();
        var cpuRatio = Median(pairs.Select(p => p.On.HostCpuMicrosPerDelivery)) / Median(pairs.Select(p => p.Off.HostCpuMicrosPerDelivery));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"deliveries/s on/off of the medians = {ratio:F3} (target >= {Target}: {(ratio >= Target ? "met" : "not met")}); per round {ratios.Min():F2} to {ratios.Max():F2}, median {Median(ratios):F3}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"host CPU per delivery on/off of the medians = {cpuRatio:F3}; per round {cpuRatios.Min():F2} to {cpuRatios.Max():F2}, median {Median(cpuRatios):F3}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"OTLP received {receiver.Requests} requests, {receiver.Bytes / 1024.0 / 1024.0:F1} MiB; {Load()}"));
        var unclean = pairs.Sum(p => p.Off.Lost + p.Off.Duplicates + p.Off.OutOfOrder + p.On.Lost + p.On.Duplicates + p.On.OutOfOrder);
        return unclean > 0 ? 2 : receiver.Requests > 0 ? 0 : 3;
    }

    private static void Print(List<(SideResult Off, SideResult On, bool OnFirst)> pairs, int members, TimeSpan warmup, TimeSpan duration, int window)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Fan-out to {members:N0} connected members of one channel, one sender, closed loop (at most {window} posts not yet at every member), {warmup.TotalSeconds} s warm-up + {duration.TotalSeconds} s measured per side; a fresh host per side"));
        Console.WriteLine();
        Console.WriteLine("| round | first | off deliveries/s | on deliveries/s | on/off | off p50 / p99 ms | on p50 / p99 ms | p99 on/off | lost / dup off, on | host CPU us/delivery off, on |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---|---|");
        var round = 0;
        foreach (var (off, on, onFirst) in pairs)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {++round} | {(onFirst ? "on" : "off")} | {off.DeliveriesPerSecond:N0} | {on.DeliveriesPerSecond:N0} | {on.DeliveriesPerSecond / off.DeliveriesPerSecond:F2} | " +
                $"{off.P50Ms:F0} / {off.P99Ms:F0} | {on.P50Ms:F0} / {on.P99Ms:F0} | {on.P99Ms / off.P99Ms:F2} | {off.Lost} / {off.Duplicates}, {on.Lost} / {on.Duplicates} | " +
                $"{off.HostCpuMicrosPerDelivery:F1}, {on.HostCpuMicrosPerDelivery:F1} |"));
        }
        double M(Func<SideResult, double> pick, bool telemetry) => Median(pairs.Select(p => pick(telemetry ? p.On : p.Off)));
        var (offRate, onRate) = (M(s => s.DeliveriesPerSecond, false), M(s => s.DeliveriesPerSecond, true));
        var (offP99, onP99) = (M(s => s.P99Ms, false), M(s => s.P99Ms, true));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| median | | {offRate:N0} | {onRate:N0} | **{onRate / offRate:F3}** | {M(s => s.P50Ms, false):F0} / {offP99:F0} | {M(s => s.P50Ms, true):F0} / {onP99:F0} | {onP99 / offP99:F2} | | " +
            $"{M(s => s.HostCpuMicrosPerDelivery, false):F1}, {M(s => s.HostCpuMicrosPerDelivery, true):F1} |"));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Load() => "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
