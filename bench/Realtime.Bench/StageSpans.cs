using System.Globalization;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.RealtimeBench;

/// <summary>
/// Where the time of a post goes on its way to the sockets, from the host's own traces (<c>--stages</c>): an OTLP/HTTP
/// receiver on a loopback port (the tests' <see cref="OtlpReceiver"/> and <see cref="OtlpSpan"/>, linked in) keeps every
/// exported span; for the posts of a measured window it reports percentiles of each stage: the request
/// (authentication, decision, append, commit, answer), commit to the push worker's send (the append notification, the
/// subscription's read), the send and its broker confirm, the broker to the gateway's delivery, and the delivery's
/// socket writes. All processes share the machine's clock.
/// </summary>
internal sealed class StageSpans : IDisposable
{
    private readonly OtlpReceiver _receiver = new();

    public string Endpoint => _receiver.Endpoint;

    /// <summary>The environment that makes a host export its traces here, promptly.</summary>
    public IReadOnlyDictionary<string, string> HostEnvironment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "60000",
    };

    /// <summary>
    /// The stages of the posts whose request started between <paramref name="from"/> and <paramref name="to"/> (UTC), one
    /// line each: p50 and p99 in milliseconds over the posts whose trace arrived whole.
    /// </summary>
    public IReadOnlyList<string> Report(DateTimeOffset from, DateTimeOffset to)
    {
        var spans = _receiver.Spans().Select(s => new StageSpan(s.TraceId, s.ParentSpanId, s.Name, s.StartUnixNano, s.EndUnixNano)).ToList();
        var (lo, hi) = (Nanos(from), Nanos(to));
        var byTrace = spans.GroupBy(s => s.TraceId).ToDictionary(g => g.Key, g => g.ToList());
        var stages = new Dictionary<string, List<double>>
        {
            ["request (server, to the answer)"] = [],
            ["  of which database commands (sum)"] = [],
            ["  request start -> first database command"] = [],
            ["  last database command -> request end"] = [],
            ["request end -> push send starts"] = [],
            ["push send + broker confirm"] = [],
            ["push send starts -> gateway delivery starts"] = [],
            ["gateway delivery (socket writes)"] = [],
            ["request start -> delivery end"] = [],
        };
        var whole = 0;
        foreach (var trace in byTrace.Values)
        {
            var request = trace.FirstOrDefault(s => s.Name.StartsWith("POST ", StringComparison.Ordinal) && s.ParentSpanId.Length == 0);
            var push = trace.FirstOrDefault(s => s.Name == "chat.push");
            var deliver = trace.FirstOrDefault(s => s.Name == "chat.deliver");
            if (request is null || push is null || deliver is null || request.Start < lo || request.Start >= hi)
            {
                continue;
            }
            whole++;
            stages["request (server, to the answer)"].Add(Ms(request.End, request.Start));
            var database = trace.Where(s => s.Name is "postgresql" or "esc_rtscen" && s.Start >= request.Start && s.End <= request.End).ToList();
            stages["  of which database commands (sum)"].Add(database.Sum(s => Ms(s.End, s.Start)));
            if (database.Count > 0)
            {
                stages["  request start -> first database command"].Add(Ms(database.Min(s => s.Start), request.Start));
                stages["  last database command -> request end"].Add(Ms(request.End, database.Max(s => s.End)));
            }
            stages["request end -> push send starts"].Add(Ms(push.Start, request.End));
            stages["push send + broker confirm"].Add(Ms(push.End, push.Start));
            stages["push send starts -> gateway delivery starts"].Add(Ms(deliver.Start, push.Start));
            stages["gateway delivery (socket writes)"].Add(Ms(deliver.End, deliver.Start));
            stages["request start -> delivery end"].Add(Ms(deliver.End, request.Start));
        }
        var names = string.Join(", ", spans.GroupBy(s => s.Name).OrderByDescending(g => g.Count()).Take(6).Select(g => $"{g.Key} {g.Count()}"));
        var lines = new List<string> { $"    stages of {whole:N0} posts (host traces; {spans.Count:N0} spans: {names}):" };
        foreach (var (name, values) in stages)
        {
            values.Sort();
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"      {name,-46} p50 {Percentile(values, 0.5),7:F2} ms  p99 {Percentile(values, 0.99),7:F2} ms"));
        }
        return lines;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    private static double Ms(ulong later, ulong earlier) => ((long)later - (long)earlier) / 1e6;

    private static ulong Nanos(DateTimeOffset at) => (ulong)(at.ToUnixTimeMilliseconds() * 1_000_000L);

    public void Dispose() => _receiver.Dispose();

    /// <summary>What a stage needs of a span: its trace, parent, name and times (Unix nanoseconds).</summary>
    private sealed record StageSpan(string TraceId, string ParentSpanId, string Name, ulong Start, ulong End);
}
