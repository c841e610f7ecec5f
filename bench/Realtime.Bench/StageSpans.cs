using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventSourcedChat.RealtimeBench;

/// <summary>One span's name, ids and wall-clock times (Unix nanoseconds), as the host exported it over OTLP.</summary>
internal sealed record StageSpan(string TraceId, string SpanId, string ParentSpanId, string Name, ulong Start, ulong End);

/// <summary>
/// Where the time of a post goes on its way to the sockets, from the host's own traces (<c>--stages</c>): an OTLP/HTTP
/// receiver on a loopback port keeps every exported span; for the posts of a measured window it reports percentiles
/// of each stage: the request (authentication, decision, append, commit, answer), commit to the push worker's send
/// (the append notification, the subscription's read), the send and its broker confirm, the broker to the gateway's
/// delivery, and the delivery's socket writes. All processes share the machine's clock.
/// </summary>
internal sealed class StageSpans : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<byte[]> _bodies = new();

    public string Endpoint { get; }

    public StageSpans()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add($"{Endpoint}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

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
        var spans = new List<StageSpan>();
        foreach (var body in _bodies)
        {
            spans.AddRange(Parse(body));
        }
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
        var lines = new List<string> { $"    stages of {whole:N0} posts (host traces; {_bodies.Count} exports, {spans.Count:N0} spans: {names}):" };
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

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url!.AbsolutePath == "/v1/traces")
            {
                _bodies.Enqueue(body.ToArray());
            }
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    /// <summary>The spans of an <c>ExportTraceServiceRequest</c> (resource_spans = 1, scope_spans = 2, spans = 2).</summary>
    private static IEnumerable<StageSpan> Parse(byte[] body)
    {
        foreach (var (_, resourceSpans) in Fields(body).Where(f => f.Field == 1 && f.Bytes is not null))
        {
            foreach (var (_, scope) in Fields(resourceSpans!).Where(f => f.Field == 2 && f.Bytes is not null))
            {
                foreach (var (_, span) in Fields(scope!).Where(f => f.Field == 2 && f.Bytes is not null))
                {
                    yield return Span(span!);
                }
            }
        }
    }

    private static StageSpan Span(byte[] span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        ulong start = 0, end = 0;
        foreach (var (field, bytes, fixed64) in FieldsWithFixed(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(bytes!); break;
                case 2: spanId = Convert.ToHexStringLower(bytes!); break;
                case 4: parent = Convert.ToHexStringLower(bytes!); break;
                case 5: name = Encoding.UTF8.GetString(bytes!); break;
                case 7: start = fixed64; break; // start_time_unix_nano, fixed64
                case 8: end = fixed64; break; // end_time_unix_nano, fixed64
            }
        }
        return new StageSpan(traceId, spanId, parent, name, start, end);
    }

    private static IEnumerable<(int Field, byte[]? Bytes)> Fields(byte[] message) =>
        FieldsWithFixed(message).Select(f => (f.Field, f.Bytes));

    /// <summary>A message's fields: length-delimited ones with their bytes, fixed64 ones with their value; others skipped.</summary>
    private static List<(int Field, byte[]? Bytes, ulong Fixed64)> FieldsWithFixed(byte[] message)
    {
        var fields = new List<(int, byte[]?, ulong)>();
        var i = 0;
        while (i < message.Length)
        {
            var tag = Varint(message, ref i);
            var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wire)
            {
                case 0: Varint(message, ref i); break;
                case 1:
                    fields.Add((field, null, BitConverter.ToUInt64(message, i)));
                    i += 8;
                    break;
                case 5: i += 4; break;
                case 2:
                    var length = (int)Varint(message, ref i);
                    fields.Add((field, message[i..(i + length)], 0));
                    i += length;
                    break;
                default: throw new FormatException($"wire type {wire} at byte {i}");
            }
        }
        return fields;
    }

    private static ulong Varint(byte[] bytes, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }
}
