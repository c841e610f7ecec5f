using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Realtime;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// A gateway node's link to the <c>chat.events</c> direct exchange, on RabbitMQ.Client directly (not MassTransit):
/// one exclusive, auto-delete queue per node whose bindings change at run time (one per channel with a local
/// connection, one per connected user). MassTransit declares receive-endpoint bindings only when an endpoint starts,
/// and an exclusive queue can only be bound from the connection that declared it, so the queue, its bindings and its
/// consumer all live on this one connection. Messages are handled one at a time, in queue order.
/// </summary>
public sealed class RealtimeBroker(IConfiguration configuration, RealtimeOptions options, ILogger<RealtimeBroker> logger) : IAsyncDisposable
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private IConnection? _connection;
    private IChannel? _consume;
    private IChannel? _topology;
    private int _disposed;

    public string QueueName { get; } = options.QueueName
        ?? $"{options.Exchange}.gateway.{Environment.MachineName}.{Guid.NewGuid():N}";

    /// <param name="handler">Called for each message, one at a time, in queue order.</param>
    /// <param name="lost">Called when the connection is lost (not when the node stops it).</param>
    /// <param name="recovered">Called (in the background) after automatic recovery re-declared the queue, its bindings
    /// and the consumer: what was routed to the node while the connection was down is lost.</param>
    public async Task StartAsync(Func<PushMessage, Task> handler, Action lost, Func<CancellationToken, Task> recovered, CancellationToken ct)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(configuration.GetConnectionString("RabbitMq") ?? "amqp://esc:esc@127.0.0.1:55672/"),
            ClientProvidedName = QueueName,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            // RabbitMQ.Client retries at a fixed interval; a random share (up to half of it) added per node keeps nodes
            // that lost the broker together from re-connecting in step.
            NetworkRecoveryInterval = options.RecoveryInterval * (1 + (Random.Shared.NextDouble() / 2)),
        };
        _connection = await factory.CreateConnectionAsync(ct);
        _connection.ConnectionShutdownAsync += (_, e) =>
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                logger.LogWarning("Broker connection lost ({Reason}); recovering", e.ReplyText);
                lost();
            }
            return Task.CompletedTask;
        };
        // Raised by the recovery loop after queues, bindings and consumers are back; the hand-over runs apart from it.
        _connection.RecoverySucceededAsync += (_, _) =>
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await recovered(_stopping.Token);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                }
#pragma warning disable CA1031 // a failed hand-over must not crash the node; it is logged
                catch (Exception e)
#pragma warning restore CA1031
                {
                    logger.LogError(e, "Hand-over after the broker recovery failed");
                }
            });
            return Task.CompletedTask;
        };
        _topology = await _connection.CreateChannelAsync(cancellationToken: ct);
        _consume = await _connection.CreateChannelAsync(cancellationToken: ct);
        await _topology.ExchangeDeclareAsync(options.Exchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: ct);
        await _topology.QueueDeclareAsync(QueueName, durable: false, exclusive: true, autoDelete: true, cancellationToken: ct);
        var consumer = new AsyncEventingBasicConsumer(_consume);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            PushMessage? message = null;
            try
            {
                message = JsonSerializer.Deserialize<PushMessage>(delivery.Body.Span, EventTypes.Json);
            }
            catch (JsonException e)
            {
                logger.LogWarning(e, "Dropping an unreadable realtime message");
            }
            if (message is not null)
            {
                try
                {
                    await handler(message);
                }
#pragma warning disable CA1031 // one bad message must not stop the node's delivery
                catch (Exception e)
#pragma warning restore CA1031
                {
                    logger.LogError(e, "Fan-out of {Type} at {Position} failed", message.Type, message.LogPosition);
                }
            }
        };
        await _consume.BasicConsumeAsync(QueueName, autoAck: true, consumer, ct);
        _ready.TrySetResult();
    }

    public async Task BindAsync(string routingKey, CancellationToken ct = default)
    {
        await _ready.Task.WaitAsync(ct);
        await _topology!.QueueBindAsync(QueueName, options.Exchange, routingKey, cancellationToken: ct);
    }

    public async Task UnbindAsync(string routingKey, CancellationToken ct = default)
    {
        await _ready.Task.WaitAsync(ct);
        await _topology!.QueueUnbindAsync(QueueName, options.Exchange, routingKey, cancellationToken: ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return; // stopped by the host, then disposed by the container
        }
        await _stopping.CancelAsync();
        if (_consume is not null)
        {
            await _consume.DisposeAsync();
        }
        if (_topology is not null)
        {
            await _topology.DisposeAsync();
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _stopping.Dispose();
    }
}

/// <summary>Starts the node's broker link (role <c>gateway</c>) and hands every message to the fan-out.</summary>
internal sealed class RealtimeBrokerService(RealtimeBroker broker, ChannelFanOut fanOut) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => broker.StartAsync(fanOut.OnMessageAsync, fanOut.BrokerLost, fanOut.RecoverAsync, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => broker.DisposeAsync().AsTask();
}
