using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The tests' hub client: the .NET SignalR client (<see cref="HubConnection"/>, JSON hub protocol over WebSockets, no
/// negotiation) reaching the in-process host through <see cref="HttpConnectionOptions.WebSocketFactory"/> (or a gateway
/// process over a real socket), with every server <c>event</c> envelope kept in the order it arrived. Connecting
/// completes once the server's <c>hello</c> came (the connection is registered for its channels, API.md); the hello is
/// kept apart (<see cref="Hello"/>, <see cref="BeforeHello"/>), not in <see cref="Events"/>.
/// </summary>
public sealed class HubClient : IAsyncDisposable
{
    /// <summary>The one server-to-client method this client records (the hub's <c>IChatClient.Event</c>).</summary>
    public const string EventTarget = "event";

    private readonly HubConnection _connection;
    private readonly RecordingHubProtocol _protocol;
    private readonly Lock _gate = new();
    private readonly List<JsonElement> _events = [];
    private readonly Channel<bool> _signal = Channel.CreateUnbounded<bool>();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<JsonElement> _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _beforeHello;
    private int _disposed;

    private HubClient(IHubConnectionBuilder builder)
    {
        _protocol = new RecordingHubProtocol(Record);
        builder.Services.AddSingleton<IHubProtocol>(_protocol);
        var connection = _connection = builder.Build();
        // Events are recorded by RecordingHubProtocol, in the order they arrived; the handler tells the protocol that
        // "Event" has one argument, read as a JsonElement.
        connection.On<JsonElement>("Event", _ => { });
        connection.Closed += _ =>
        {
            _closed.TrySetResult();
            return Task.CompletedTask;
        };
    }

    /// <summary>Every <c>event</c> envelope received so far, in order.</summary>
    public IReadOnlyList<JsonElement> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The server's <c>hello</c> (<c>{userId, position}</c> in <c>data</c>); connecting waits for it.</summary>
    public Task<JsonElement> Hello => _hello.Task;

    /// <summary>How many <c>event</c> envelopes came before the hello (the server sends none).</summary>
    public int BeforeHello => Volatile.Read(ref _beforeHello);

    /// <param name="barrier">False: return as soon as the hello came, without the round trip after it (what a client
    /// that waits for hello does; tests of hello itself).</param>
    public static Task<HubClient> ConnectAsync(ChatHost host, TestUser user, bool barrier = true) =>
        ConnectAsync(new Uri($"http://localhost/v1/gateway?access_token={Uri.EscapeDataString(TokenOf(user))}"), options =>
        {
            options.WebSocketFactory = async (context, ct) => await host.Server.CreateWebSocketClient().ConnectAsync(context.Uri, ct);
            options.HttpMessageHandlerFactory = _ => host.Server.CreateHandler();
        }, barrier);

    /// <summary>Connects over a real socket to a hub URL (<c>http://host:port/v1/gateway</c>), as a client on the network would.</summary>
    public static Task<HubClient> ConnectAsync(string hubUrl, TestUser user) =>
        ConnectAsync(new UriBuilder(hubUrl) { Query = $"access_token={Uri.EscapeDataString(TokenOf(user))}" }.Uri, _ => { });

    private static string TokenOf(TestUser user) => user.Client.DefaultRequestHeaders.Authorization!.Parameter!;

    private static async Task<HubClient> ConnectAsync(Uri url, Action<HttpConnectionOptions> configure, bool barrier = true)
    {
        var builder = new HubConnectionBuilder()
            .WithUrl(url, HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = true;
                configure(options);
            })
;
        var hub = new HubClient(builder);
        var connection = hub._connection;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await connection.StartAsync(timeout.Token);
            // The hello, or the end of the connection (a node going away), whichever comes first.
            await Task.WhenAny(hub.Hello, hub.Closed).WaitAsync(TimeSpan.FromSeconds(30));
            if (!hub.Hello.IsCompleted)
            {
                throw new InvalidOperationException("the connection closed before the hub's hello");
            }
            if (barrier)
            {
                await hub.BarrierAsync();
            }
            return hub;
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }
    }

    private void Record(JsonElement envelope)
    {
        if (envelope.GetProperty("type").GetString() == "hello")
        {
            _hello.TrySetResult(envelope);
            return;
        }
        lock (_gate)
        {
            if (!_hello.Task.IsCompleted)
            {
                _beforeHello++;
            }
            _events.Add(envelope);
        }
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Completes when the connection is gone (closed by the server, or the server died).</summary>
    public Task Closed => _closed.Task;

    /// <summary>
    /// Waits until the server processed everything sent so far. The handshake answer comes before the hub's
    /// OnConnectedAsync runs; invocations are handled only after it, in order, so the completion of any invocation
    /// (here of a method that does not exist, which answers an error) means the connection is fully set up.
    /// </summary>
    public async Task BarrierAsync()
    {
        try
        {
            await _connection.InvokeCoreAsync("__barrier", typeof(object), []).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (HubException)
        {
            // The expected answer: no such method.
        }
    }

    /// <summary>Invokes a hub method and waits for its completion (throws on a hub error).</summary>
    public async Task<JsonElement> InvokeAsync(string method, params object?[] arguments)
    {
        object? result;
        try
        {
            result = await _connection.InvokeCoreAsync(method, typeof(object), arguments).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (HubException e)
        {
            throw new InvalidOperationException($"{method} failed: {e.Message}", e);
        }
        return result is JsonElement element ? element : default;
    }

    /// <summary>Waits (bounded) until the received events satisfy <paramref name="done"/>; answers them.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitUntilAsync(
        Func<IReadOnlyList<JsonElement>, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var events = Events;
            if (done(events))
            {
                return events;
            }
            try
            {
                await _signal.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException(
                    $"Timed out waiting for {what ?? "events"}; received {events.Count}: {string.Join(", ", events.Select(Describe))}");
            }
        }
    }

    /// <summary>The received events of one type (and channel).</summary>
    public IReadOnlyList<JsonElement> OfType(string type, string? channelId = null) =>
        Events.Where(e => e.GetProperty("type").GetString() == type
                          && (channelId is null || e.GetProperty("channelId").GetString() == channelId)).ToList();

    public static string Describe(JsonElement e) =>
        $"{e.GetProperty("type").GetString()}@{(e.TryGetProperty("position", out var p) ? p.ToString() : "-")}";

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            await _connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or TimeoutException or System.Net.WebSockets.WebSocketException)
        {
        }
        _closed.TrySetResult();
    }
}
