using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Faults;

/// <summary>A message whose POST got a 2xx: where the API said it is, and when it was first tried and acknowledged.</summary>
public sealed record Acknowledged(string ClientMsgId, string ChannelId, long Seq, TimeSpan FirstAttempt, TimeSpan At);

/// <summary>A <c>message.posted</c> a listening client received, and when.</summary>
public sealed record Delivered(string ChannelId, long Seq, long Position, string Text, TimeSpan At);

/// <summary>
/// A posting client: posts to random channels of its own, one message at a time, each with a <c>clientMsgId</c>. A POST
/// that fails (an error status, a refused connection, a timeout) is retried with the same <c>clientMsgId</c> until it
/// gets a 2xx, so a message the server stored but could not acknowledge is stored once.
/// </summary>
public sealed class Poster(int index, TestUser user, IReadOnlyList<string> channels, Stopwatch clock, string runId, int seed)
{
    private readonly List<Acknowledged> _acks = [];
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public TestUser User => user;

    public IReadOnlyList<string> Channels => channels;

    public IReadOnlyList<Acknowledged> Acks
    {
        get
        {
            lock (_gate)
            {
                return [.. _acks];
            }
        }
    }

    /// <summary>Failed attempts by kind (status code or transport error), each retried.</summary>
    public IReadOnlyDictionary<string, int> Failures
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, int>(_failures);
            }
        }
    }

    /// <summary>Messages never acknowledged before <c>giveUp</c>.</summary>
    public int Abandoned { get; private set; }

    /// <summary>Posts until <paramref name="stop"/>; the message in flight then is retried until acknowledged or <paramref name="giveUp"/>.</summary>
    public async Task RunAsync(CancellationToken stop, CancellationToken giveUp)
    {
        var random = new Random(seed + index);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var channel = channels[random.Next(channels.Count)];
            var id = $"{runId}-p{index}-{n}";
            var first = clock.Elapsed;
            if (!await PostUntilAcknowledgedAsync(channel, id, first, giveUp))
            {
                Abandoned++;
                return;
            }
            await Task.Delay(15, CancellationToken.None);
        }
    }

    private async Task<bool> PostUntilAcknowledgedAsync(string channel, string id, TimeSpan first, CancellationToken giveUp)
    {
        while (!giveUp.IsCancellationRequested)
        {
            try
            {
                using var response = await user.Client.PostAsJsonAsync($"/v1/channels/{channel}/messages", new { text = id, clientMsgId = id }, giveUp);
                if (response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>(giveUp);
                    lock (_gate)
                    {
                        _acks.Add(new Acknowledged(id, body.GetProperty("channelId").GetString()!, body.GetProperty("seq").GetInt64(), first, clock.Elapsed));
                    }
                    return true;
                }
                Fail(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (HttpRequestException e)
            {
                Fail(e.HttpRequestError.ToString());
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                Fail("timeout");
            }
            try
            {
                await Task.Delay(100, giveUp);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }

    private void Fail(string kind)
    {
        lock (_gate)
        {
            _failures[kind] = _failures.GetValueOrDefault(kind) + 1;
        }
    }
}

/// <summary>
/// A listening client on the SignalR JSON protocol: connects to a gateway, calls <c>Resume</c> with the position of the
/// last channel event it got (0 the first time), and records every <c>message.posted</c>. When the connection drops
/// (its gateway died) or cannot be made, it connects again, to the other gateway first, and resumes from that position.
/// </summary>
public sealed class Listener(int index, TestUser user, IReadOnlyList<string> channels, Func<int, string> hubUrl, Stopwatch clock)
{
    private readonly List<Delivered> _received = [];
    private readonly Lock _gate = new();
    private long _last;

    public TestUser User => user;

    public IReadOnlyList<string> Channels => channels;

    public IReadOnlyList<Delivered> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Connections made after the first one (each one resumed).</summary>
    public int Reconnects { get; private set; }

    /// <summary>Attempts to connect and resume that failed (and were tried again).</summary>
    public int FailedAttempts { get; private set; }

    /// <summary><c>resync.required</c> answers: the client would have to refetch with REST.</summary>
    public int Resyncs { get; private set; }

    /// <summary>Set once the first connection has resumed.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RunAsync(CancellationToken stop)
    {
        var node = index;
        var connected = false;
        while (!stop.IsCancellationRequested)
        {
            HubClient? hub = null;
            try
            {
                hub = await HubClient.ConnectAsync(hubUrl(node), user);
                await hub.InvokeAsync("Resume", _last);
                if (connected)
                {
                    Reconnects++;
                }
                connected = true;
                Started.TrySetResult();
                var processed = 0;
                while (true)
                {
                    var closed = hub.Closed.IsCompleted;
                    var events = hub.Events;
                    for (; processed < events.Count; processed++)
                    {
                        Handle(events[processed]);
                    }
                    if (closed || stop.IsCancellationRequested)
                    {
                        break;
                    }
                    await Task.WhenAny(hub.Closed, Task.Delay(50, CancellationToken.None));
                }
            }
            catch (Exception e) when (e is WebSocketException or InvalidOperationException or TimeoutException or IOException
                                          or OperationCanceledException or HttpRequestException or JsonException)
            {
                FailedAttempts++;
            }
            finally
            {
                if (hub is not null)
                {
                    await hub.DisposeAsync();
                }
            }
            if (stop.IsCancellationRequested)
            {
                return;
            }
            node++; // fail over to the other gateway first
            await Task.Delay(200, CancellationToken.None);
        }
    }

    private void Handle(JsonElement e)
    {
        var type = e.GetProperty("type").GetString();
        if (type == "resync.required")
        {
            Resyncs++;
        }
        if (e.TryGetProperty("position", out var p) && p.ValueKind == JsonValueKind.Number)
        {
            _last = p.GetInt64();
        }
        if (type == "message.posted")
        {
            var delivered = new Delivered(e.GetProperty("channelId").GetString()!, e.GetProperty("seq").GetInt64(), p.GetInt64(),
                e.GetProperty("data").GetProperty("text").GetString()!, clock.Elapsed);
            lock (_gate)
            {
                _received.Add(delivered);
            }
        }
    }
}
