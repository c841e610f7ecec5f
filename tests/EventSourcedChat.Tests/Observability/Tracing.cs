using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using EventSourcedChat.EventStore.Telemetry;
using EventSourcedChat.Gateway.Presence;
using EventSourcedChat.Tests.Infrastructure;
using EventSourcedChat.Tests.Realtime;
using Xunit.Abstractions;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Observability;

/// <summary>
/// One trace for one post: the HTTP request, the push worker's send (after the hop through PostgreSQL: the request's
/// traceparent is stored with the event) and the delivery on another gateway node (after the hop through RabbitMQ: the
/// push message carries the push span's traceparent), down to the write to the member's connection: the node's one
/// <c>chat.deliver</c> span per event counts the connections it handed the event's frame to (no span per connection,
/// which cost about 11 % of the fan-out's throughput in a channel of 1,000). Spans are seen
/// with an <see cref="ActivityListener"/> in the test process, where every in-process host records its spans.
/// </summary>
public sealed class Tracing(PostgresFixture db, ITestOutputHelper output) : RealtimeTest(db)
{
    /// <summary>
    /// The same trace across OS processes: the post and the push run in this test process, the delivery and the socket
    /// write in a Gateway process of its own, which exports its spans over OTLP to a receiver in the test. The spans it
    /// exports continue the push span's trace (after PostgreSQL and RabbitMQ), come from that process (its
    /// <c>service.instance.id</c> names its pid) and show the frame written to bob's socket there (one connection, one
    /// write, its bytes, no failure). The test prints the trace as the exporter sent it.
    /// </summary>
    [Fact]
    public async Task A_post_is_one_trace_across_processes_and_the_gateway_process_exports_the_delivery_and_the_socket_write_over_OTLP()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = ListenToSpans(spans);
        using var receiver = new OtlpReceiver();
        var gateway = Own(await GatewayProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Roles"] = "gateway",
            ["ConnectionStrings:Postgres"] = Db.ConnectionString,
            ["Realtime:Exchange"] = $"chat.events.{PostgresFixture.DatabaseName}",
            ["Redis:Prefix"] = $"esc_tests_tracing:{Guid.NewGuid():N}:",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        }));

        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var channel = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        await bob.Ok("POST", $"/v1/channels/{channel}/join");
        await using var bobHub = await HubClient.ConnectAsync(gateway.HubUrl, bob);
        await bobHub.InvokeAsync("Resume", 0);

        var traceId = ActivityTraceId.CreateRandom();
        using var post = new HttpRequestMessage(HttpMethod.Post, $"/v1/channels/{channel}/messages")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { text = "traced across processes" }),
        };
        post.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        Assert.Equal(HttpStatusCode.Created, (await ada.Client.SendAsync(post)).StatusCode);
        await bobHub.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "message.posted"), what: "the post on bob's socket");

        var trace = traceId.ToString();
        var exported = await Eventually.Until(() => Task.FromResult(receiver.Spans().Where(s => s.TraceId == trace).ToList()),
            s => s.Any(x => x.Name == ChatActivity.Deliver), TimeSpan.FromSeconds(20), "the gateway process's spans of the trace");
        var request = Assert.Single(spans, s => s.TraceId == traceId && s.Source.Name == "Microsoft.AspNetCore");
        var push = Assert.Single(spans, s => s.TraceId == traceId && s.OperationName == ChatActivity.Push);
        var deliver = Assert.Single(exported, s => s.Name == ChatActivity.Deliver);
        Assert.Equal(request.SpanId.ToString(), push.ParentSpanId.ToString());
        Assert.Equal(push.SpanId.ToString(), deliver.ParentSpanId);
        // The socket write on that process: bob's one connection was handed the frame (its bytes), nothing failed.
        Assert.Equal("1", deliver.Attributes["chat.connections"]);
        Assert.Equal("1", deliver.Attributes["chat.written"]);
        Assert.Equal("0", deliver.Attributes["chat.held"]);
        Assert.Equal("0", deliver.Attributes["chat.failed"]);
        Assert.True(long.Parse(deliver.Attributes["chat.bytes"], System.Globalization.CultureInfo.InvariantCulture) > "traced across processes".Length,
            $"chat.bytes {deliver.Attributes["chat.bytes"]} holds the frame with the post's text");
        Assert.Single(exported); // one span per event and node, none per connection
        Assert.All(exported, s => Assert.EndsWith($":{gateway.Pid}", s.Resource["service.instance.id"], StringComparison.Ordinal));
        Assert.NotEqual(Environment.ProcessId, gateway.Pid);
        Assert.DoesNotContain(spans, s => s.TraceId == traceId && s.OperationName == ChatActivity.Deliver); // not delivered here

        output.WriteLine($"trace {trace}");
        output.WriteLine($"  [test process {Environment.ProcessId}] {request.OperationName} span {request.SpanId}");
        output.WriteLine($"    [test process {Environment.ProcessId}] {push.OperationName} span {push.SpanId} (parent {push.ParentSpanId})");
        output.WriteLine($"      [gateway process {gateway.Pid}, exported over OTLP] {deliver.Name} span {deliver.SpanId} (parent {deliver.ParentSpanId}) "
            + string.Join(" ", deliver.Attributes.Select(a => $"{a.Key}={a.Value}")));
    }

    [Fact]
    public async Task A_post_is_one_trace_from_the_request_through_the_log_and_the_broker_to_the_socket_on_another_gateway()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = ListenToSpans(spans);

        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var channel = await ChannelAsync(ada, await WorkspaceAsync(ada, bob));
        await bob.Ok("POST", $"/v1/channels/{channel}/join");
        var gateway = ExtraHost("api,gateway"); // the shared host runs the push worker; bob's socket is on this node
        var bobHub = await ConnectAsync(bob, gateway);
        await bobHub.InvokeAsync("Resume", 0);

        var traceId = ActivityTraceId.CreateRandom();
        using var post = new HttpRequestMessage(HttpMethod.Post, $"/v1/channels/{channel}/messages")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { text = "traced" }),
        };
        post.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        Assert.Equal(HttpStatusCode.Created, (await ada.Client.SendAsync(post)).StatusCode);
        await bobHub.WaitUntilAsync(e => e.Any(x => x.GetProperty("type").GetString() == "message.posted"), what: "the post on bob's socket");

        // The event keeps the request's trace in the log (outside its hash).
        var stored = await Eventually.Until(async () =>
        {
            await using var cmd = Db.DataSource.CreateCommand(
                "select trace_parent from es_events where stream_id = $1 and type = 'message.posted.v1'");
            cmd.Parameters.AddWithValue($"channel-{channel}");
            return await cmd.ExecuteScalarAsync() as string;
        }, s => s is not null, what: "the stored traceparent");
        Assert.Contains(traceId.ToString(), stored, StringComparison.Ordinal);

        List<Activity> Of(string name) => spans.Where(s => s.TraceId == traceId && s.OperationName == name).ToList();
        await Eventually.Until(() => Of(ChatActivity.Deliver).Count > 0, TimeSpan.FromSeconds(15), "the delivery span");
        var request = Assert.Single(spans, s => s.TraceId == traceId && s.Source.Name == "Microsoft.AspNetCore");
        var push = Assert.Single(Of(ChatActivity.Push));
        var deliver = Assert.Single(Of(ChatActivity.Deliver));
        Assert.Equal(request.SpanId, push.ParentSpanId);
        Assert.Equal(push.SpanId, deliver.ParentSpanId);
        // Bob's socket on that node was handed the frame, inside the delivery span; no span per connection.
        Assert.Equal(1, deliver.GetTagItem("chat.connections"));
        Assert.Equal(1, deliver.GetTagItem("chat.written"));
        Assert.Equal(0, deliver.GetTagItem("chat.failed"));
        Assert.True((long)deliver.GetTagItem("chat.bytes")! > "traced".Length);
        Assert.DoesNotContain(spans, s => s.TraceId == traceId && s.ParentSpanId == deliver.SpanId);
        Assert.Equal(gateway.Services.GetRequiredService<PresenceOptions>().NodeId, deliver.GetTagItem("chat.gateway.node"));
        Assert.NotEqual(Host.Services.GetRequiredService<PresenceOptions>().NodeId, deliver.GetTagItem("chat.gateway.node"));
    }

    [Fact]
    public async Task An_untraced_post_stores_no_trace_context()
    {
        var ada = await RegisterAsync("ada");
        var channel = await ChannelAsync(ada, await WorkspaceAsync(ada));
        await ada.Ok("POST", $"/v1/channels/{channel}/messages", new { text = "untraced" }, HttpStatusCode.Created);
        await using var cmd = Db.DataSource.CreateCommand("select count(*) from es_events where trace_parent is not null");
        Assert.Equal(0L, await cmd.ExecuteScalarAsync());
    }

    /// <summary>Records every span of the service and of ASP.NET Core that stops in this process (all in-process hosts).</summary>
    private static ActivityListener ListenToSpans(ConcurrentQueue<Activity> spans)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is ChatActivity.SourceName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
