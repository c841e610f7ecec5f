using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourcedChat.ReadSideBench;
using Npgsql;

namespace EventSourcedChat.RealtimeBench;

/// <summary>
/// What the telemetry-cost mode fans out to: the seeded channel every user is a member of ('wide'), every member's
/// token (client <c>i</c> is user <c>i</c>; user 0 also sends), and the host to start for each side.
/// </summary>
internal sealed record FanOutTarget(string Dll, string ConnectionString, IReadOnlyDictionary<string, string> HostEnvironment,
    string ChannelId, int Channel, string[] Tokens, AuthenticationHeaderValue[] Authorizations, Deliveries Deliveries);

/// <summary>One side of one round: the measured window's figures, and the whole run's lost and duplicated deliveries.</summary>
internal sealed record SideResult(double DeliveriesPerSecond, double PostsPerSecond, double P50Ms, double P99Ms, long Measured,
    long Lost, long Duplicates, long OutOfOrder, long Errors, double HostCpuSeconds)
{
    /// <summary>Host CPU time (user + system) per delivery in the measured window, in microseconds.</summary>
    public double HostCpuMicrosPerDelivery => DeliveriesPerSecond > 0 ? HostCpuSeconds * 1e6 / Measured : double.NaN;
}

/// <summary>
/// One side: a fresh host process with the given environment, every member connected to it, then one sender (user 0)
/// posting into the channel in a closed loop: it posts again as soon as fewer than <c>window</c> of its posts still
/// miss a member, so the path (POST, push worker, broker, fan-out, sockets) runs as fast as it can. Deliveries/s counts
/// frames received in the measured window; latency is POST sent -> frame received for posts sent in it.
/// </summary>
internal static class FanOutSide
{
    public static async Task<SideResult> RunAsync(FanOutTarget target, IReadOnlyDictionary<string, string> environment, int run,
        TimeSpan warmup, TimeSpan duration, int window)
    {
        var deliveries = target.Deliveries;
        var members = target.Tokens.Length;
        using var host = GatewayProcess.Start(target.Dll, target.ConnectionString, 0, environment);
        using var http = ChatApi.CreateClient(host.BaseAddress);
        await host.WaitLiveAsync(http, TimeSpan.FromSeconds(90));
        await WaitCaughtUpAsync(target.ConnectionString, TimeSpan.FromMinutes(2));
        var clients = await ConnectAsync(new Uri($"ws://{host.BaseAddress.Authority}/"), target, TimeSpan.FromMinutes(2));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2)); // the 1 s resume grace of the newest connections, as the full run waits
            var (dup0, ooo0) = (deliveries.Duplicates, deliveries.OutOfOrder);
            var start = Stopwatch.GetTimestamp();
            var measureFrom = start + Ticks(warmup);
            var end = measureFrom + Ticks(duration);
            var nextPing = start + Ticks(TimeSpan.FromSeconds(10));
            double? cpuFrom = null;
            long posted = 0, measuredPosts = 0, errors = 0;
            while (Stopwatch.GetTimestamp() < end)
            {
                // At most `window` posts not yet at every member; waits 10 s at most, so a lost delivery cannot stall it.
                var waitUntil = Stopwatch.GetTimestamp() + Ticks(TimeSpan.FromSeconds(10));
                while (deliveries.Received(run) <= (posted - window) * members && Stopwatch.GetTimestamp() < waitUntil)
                {
                    await Task.Delay(1);
                }
                if (cpuFrom is null && Stopwatch.GetTimestamp() >= measureFrom)
                {
                    cpuFrom = CpuMeter.Seconds(host.Pid);
                }
                var (status, seq, sent) = await PostAsync(http, target, run);
                if (status == HttpStatusCode.Created)
                {
                    deliveries.Posted(run, target.Channel, seq);
                    posted++;
                    measuredPosts += sent >= measureFrom ? 1 : 0;
                }
                else
                {
                    errors++;
                }
                if (Stopwatch.GetTimestamp() >= nextPing)
                {
                    nextPing += Ticks(TimeSpan.FromSeconds(10));
                    foreach (var client in clients)
                    {
                        await client.PingAsync();
                    }
                }
            }
            var hostCpu = CpuMeter.Seconds(host.Pid) - (cpuFrom ?? CpuMeter.Seconds(host.Pid));
            var drainUntil = Stopwatch.GetTimestamp() + Ticks(TimeSpan.FromSeconds(30));
            while (deliveries.Received(run) < posted * members && Stopwatch.GetTimestamp() < drainUntil)
            {
                await Task.Delay(20);
            }
            var samples = deliveries.Samples(run);
            var inWindow = samples.LongCount(s => s.Received >= measureFrom && s.Received < end);
            var latencies = samples.Where(s => s.Sent >= measureFrom && s.Sent < end).Select(s => s.Received - s.Sent).ToList();
            var everyone = Enumerable.Range(0, members).ToList();
            return new SideResult(inWindow / duration.TotalSeconds, measuredPosts / duration.TotalSeconds,
                Stats.PercentileMs(latencies, 0.5), Stats.PercentileMs(latencies, 0.99), inWindow,
                deliveries.Lost(run, _ => everyone), deliveries.Duplicates - dup0, deliveries.OutOfOrder - ooo0, errors, hostCpu);
        }
        catch
        {
            Console.Error.WriteLine($"host output (last lines):\n{host.Output}");
            throw;
        }
        finally
        {
            foreach (var chunk in clients.Chunk(500))
            {
                await Task.WhenAll(chunk.Select(s => s.DisposeAsync().AsTask()));
            }
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    public static async Task<List<HubSocket>> ConnectAsync(Uri gateway, FanOutTarget target, TimeSpan timeout)
    {
        using var budget = new CancellationTokenSource(timeout);
        var sockets = new HubSocket[target.Tokens.Length];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < sockets.Length)
            {
                sockets[i] = await HubSocket.ConnectAsync(gateway, target.Tokens[i], i, target.Deliveries.OnReceived, budget.Token);
            }
        }));
        return [.. sockets];
    }

    private static async Task<(HttpStatusCode Status, long Seq, long Sent)> PostAsync(HttpClient http, FanOutTarget target, int run)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{target.ChannelId}/messages");
        request.Headers.Authorization = target.Authorizations[0];
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

    /// <summary>Waits until the push worker and the directory projection have read the whole log (a fresh host starts behind).</summary>
    public static async Task WaitCaughtUpAsync(string connectionString, TimeSpan timeout)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        var until = Stopwatch.GetTimestamp() + Ticks(timeout);
        while (true)
        {
            await using var cmd = db.CreateCommand("""
                select (select coalesce(max(position), 0) from es_events),
                       coalesce((select min(position) from es_checkpoints where name in ('push', 'projection:directory')), -1),
                       (select count(*) from es_checkpoints where name in ('push', 'projection:directory'))
                """);
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (head, reached, count) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            if (count == 2 && reached >= head)
            {
                return;
            }
            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"push/directory did not reach {head} within {timeout}: at {reached}"));
            }
            await Task.Delay(250);
        }
    }
}
