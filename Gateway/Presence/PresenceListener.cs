using EventSourcedChat.Gateway.Hosting;
using StackExchange.Redis;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// The node's presence and typing background work: turns on Redis keyspace notifications for expired keys
/// (<c>notify-keyspace-events</c> gains <c>Ex</c>), subscribes to <c>presence</c>, <c>typing</c> and
/// <c>__keyevent@{db}__:expired</c>, runs the ordered send queue and the refresh timer. When Redis does not answer it
/// retries with jittered exponential backoff (<c>Resilience:RetryMaxDelay</c> at most); the multiplexer re-subscribes by itself after a reconnect.
/// </summary>
public sealed class PresenceListener(
    RedisConnection redis,
    IConfiguration configuration,
    PresenceOptions options,
    PresenceService presence,
    TypingService typing,
    SerialDispatch dispatch,
    ILogger<PresenceListener> logger,
    EventSourcedChat.EventStore.ResilienceOptions? resilience = null) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sends = dispatch.RunAsync(stoppingToken);
        try
        {
            await SubscribeAsync(stoppingToken);
            using var timer = new PeriodicTimer(options.RefreshInterval);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await presence.RefreshAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        try
        {
            await sends;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SubscribeAsync(CancellationToken ct)
    {
        var backoff = (resilience ?? new EventSourcedChat.EventStore.ResilienceOptions()).NewBackoff();
        while (true)
        {
            try
            {
                var multiplexer = await redis.GetAsync();
                await EnableExpiredEventsAsync();
                var subscriber = multiplexer.GetSubscriber();
                // StackExchange.Redis 2.0 and later run the handlers of Subscribe(channel, handler) concurrently, in no
                // order; presence must see changes in the order Redis published them (active then offline is not offline
                // then active). A ChannelMessageQueue with OnMessage hands over one message at a time, in the order it
                // arrived, and each handler only enqueues on SerialDispatch, so that order reaches the connections.
                // The order holds per Redis channel; the three channels are read by three loops.
                _presenceQueue ??= await OrderedAsync(subscriber, RedisChannel.Literal(options.PresenceChannel), m => presence.OnPublished((string)m.Message!));
                _typingQueue ??= await OrderedAsync(subscriber, RedisChannel.Literal(options.TypingChannel), m => typing.OnPublished((string)m.Message!));
                _expiredQueue ??= await OrderedAsync(subscriber, ExpiredChannel(), m => presence.OnExpired((string)m.Message!));
                multiplexer.ConnectionRestored += (_, _) =>
                {
                    // Redis may have restarted empty: notifications off, keys gone. Set both up again.
                    presence.ForgetWrites();
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await EnableExpiredEventsAsync();
                            await presence.RefreshAsync();
                        }
                        catch (Exception e) when (e is RedisException or TimeoutException)
                        {
                            logger.LogWarning("Presence set-up after a Redis reconnect failed: {Error}", e.Message);
                        }
                    }, CancellationToken.None);
                };
                await presence.RefreshAsync();
                logger.LogInformation("Presence and typing listening on Redis (node {NodeId}, prefix {Prefix})", options.NodeId, options.Prefix);
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                var delay = backoff.Next();
                logger.LogWarning("Presence cannot subscribe, Redis does not answer ({Error}); retrying in {Delay}", e.Message, delay);
                await Task.Delay(delay, ct);
            }
        }
    }

    // Subscribed once per process (a retry after a partial set-up does not subscribe twice); the multiplexer
    // subscribes them again by itself after a reconnect.
    private ChannelMessageQueue? _presenceQueue;
    private ChannelMessageQueue? _typingQueue;
    private ChannelMessageQueue? _expiredQueue;

    private static async Task<ChannelMessageQueue> OrderedAsync(ISubscriber subscriber, RedisChannel channel, Action<ChannelMessage> handler)
    {
        var queue = await subscriber.SubscribeAsync(channel);
        queue.OnMessage(handler);
        return queue;
    }

    private string ConnectionString => configuration.GetConnectionString("Redis") ?? "127.0.0.1:56379";

    private RedisChannel ExpiredChannel()
    {
        var database = ConfigurationOptions.Parse(ConnectionString).DefaultDatabase ?? 0;
        return RedisChannel.Literal($"__keyevent@{database}__:expired");
    }

    /// <summary>
    /// <c>CONFIG SET notify-keyspace-events</c> adding <c>E</c> (keyevent channels) and <c>x</c> (expired) to what is
    /// set already. CONFIG is an admin command: a short-lived admin connection does it. Where CONFIG is forbidden
    /// (some hosted Redis), set <c>notify-keyspace-events Ex</c> in the server's configuration instead.
    /// </summary>
    private async Task EnableExpiredEventsAsync()
    {
        var admin = ConfigurationOptions.Parse(ConnectionString);
        admin.AllowAdmin = true;
        admin.AbortOnConnectFail = false;
        admin.ConnectTimeout = 2000;
        admin.SyncTimeout = 2000;
        using var connection = await ConnectionMultiplexer.ConnectAsync(admin);
        try
        {
            foreach (var endpoint in connection.GetEndPoints())
            {
                var server = connection.GetServer(endpoint);
                var current = (await server.ConfigGetAsync("notify-keyspace-events")).FirstOrDefault().Value ?? "";
                var wanted = current;
                if (!wanted.Contains('E', StringComparison.Ordinal))
                {
                    wanted += "E";
                }
                if (!wanted.Contains('x', StringComparison.Ordinal) && !wanted.Contains('A', StringComparison.Ordinal))
                {
                    wanted += "x";
                }
                if (wanted != current)
                {
                    await server.ConfigSetAsync("notify-keyspace-events", wanted);
                }
            }
        }
        catch (RedisServerException e)
        {
            logger.LogWarning("Cannot turn on keyspace notifications ({Error}): users of a dead node will not be shown offline", e.Message);
        }
        finally
        {
            await connection.CloseAsync();
        }
    }
}
