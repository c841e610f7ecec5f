using System.Globalization;
using EventSourcedChat.ReadSideBench;

namespace EventSourcedChat.ApiBench;

/// <summary>
/// The cost of OpenTelemetry export on the posting path: the same posting cell (8 clients, each on its own channels)
/// against the host with telemetry off and on (OTLP/HTTP to a receiver in this process that reads and discards),
/// in alternating rounds with a fresh host process each time; medians and their ratio.
/// </summary>
internal static class TelemetryCostBench
{
    public static async Task<int> RunAsync(string dll, string connectionString, int rounds, TimeSpan warmup, TimeSpan duration)
    {
        using var receiver = new DiscardingOtlpReceiver();
        var off = new List<double>();
        var on = new List<double>();
        string[]? channels = null;
        BenchUser[]? users = null;
        for (var round = 0; round < rounds; round++)
        {
            // Alternate which goes first, so a drift of the machine over the run does not favour one side.
            foreach (var telemetry in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                var environment = telemetry
                    ? new Dictionary<string, string>
                    {
                        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
                        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                        ["OTEL_METRIC_EXPORT_INTERVAL"] = "5000",
                    }
                    : null;
                using var gateway = GatewayProcess.Start(dll, connectionString, 0, environment);
                using var http = ChatApi.CreateClient(gateway.BaseAddress);
                await gateway.WaitLiveAsync(http, TimeSpan.FromSeconds(90));
                var api = new ChatApi(http);
                if (users is null)
                {
                    var admin = await api.RegisterAsync("telemetry-admin");
                    var workspace = await api.CreateWorkspaceAsync(admin, "Telemetry");
                    users = new BenchUser[8];
                    for (var i = 0; i < users.Length; i++)
                    {
                        users[i] = await api.RegisterAsync($"telemetry{i}");
                        await api.AddMemberAsync(admin, workspace, users[i]);
                    }
                    channels = new string[200];
                    for (var j = 0; j < channels.Length; j++)
                    {
                        channels[j] = await api.CreateChannelAsync(users[j % users.Length], workspace, $"tel-{j}");
                    }
                }
                var clients = users.Select((u, i) => new PostingClient(u, channels!.Where((_, j) => j % users.Length == i).ToList())).ToList();
                var cell = await PostingBench.RunAsync(api, telemetry ? "on" : "off", channels!.Length, "own users and channels", clients, warmup, duration);
                (telemetry ? on : off).Add(cell.PerSecond);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  round {round + 1} telemetry {(telemetry ? "on " : "off")}: {cell.PerSecond,7:F0} posts/s  p50 {cell.P50Ms:F2} ms  p99 {cell.P99Ms:F2} ms  errors {cell.Errors}"));
            }
        }
        var ratio = Median(on) / Median(off);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"telemetry off: median {Median(off):F0} posts/s; on: median {Median(on):F0} posts/s; on/off = {ratio:F3} (target >= 0.95); OTLP received {receiver.Requests} requests, {receiver.Bytes / 1024.0:F0} KiB"));
        return receiver.Requests > 0 ? 0 : 3;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
