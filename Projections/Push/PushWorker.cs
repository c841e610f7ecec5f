using System.Diagnostics;
using EventSourcedChat.EventStore.Telemetry;
using System.Security.Cryptography;
using System.Text;
using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.EventStore;
using EventSourcedChat.Projections.Infrastructure;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Projections.Push;

/// <summary>
/// The push worker (role <c>projector</c>): a catch-up subscription named <c>push</c> over the log that sends every
/// channel event, read marker and member change to the direct exchange, routed by channel id and <c>user.{id}</c>.
/// </summary>
/// <remarks>
/// At-least-once: the messages of a batch are sent in log order on the bus's one channel with many in flight
/// (MassTransit with publisher confirmation), the confirms awaited together, and the checkpoint moves only after every
/// message of the batch was confirmed. Sending in order keeps each gateway queue in (transaction id, position) order,
/// which the gateways' resume hand-over relies on; a crash re-sends at most one batch, which gateways drop by cursor.
/// One worker runs at a time: it holds a PostgreSQL advisory lock for as long as it runs; others stand by.
/// </remarks>
public sealed class PushWorker(
    NpgsqlDataSource db, CatchUpSubscription subscription, CheckpointStore checkpoints, PushBus buses, PushOptions options,
    ILogger<PushWorker> logger, ResilienceOptions? resilience = null, RunnerStatus? status = null, PushMetrics? metrics = null)
    : BackgroundService
{
    private readonly RunnerStatus _status = status ?? new RunnerStatus(db);

    public static long LeaseKey { get; } =
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("esc:lease:push-worker")), 0);

    /// <summary>True while this process holds the lease and runs.</summary>
    public bool Active { get; private set; }

    private int _interruptions;

    /// <summary>How often the run stopped on an error (a lost database or broker, a batch not confirmed in time) and started again.</summary>
    public int Interruptions => Volatile.Read(ref _interruptions);

    /// <summary>The error of the last interruption, or null.</summary>
    public Exception? LastInterruption { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A lost database or broker restarts the loop after a jittered, exponentially growing delay (Resilience:*).
        var backoff = (resilience ?? new ResilienceOptions()).NewBackoff();
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                // Another node holds the lease: stand by and try again. After a restart on request: at once.
                wait = await RunWhileLeasedAsync(backoff, stoppingToken)
                    ? TimeSpan.Zero
                    : TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(Random.Shared.Next(500));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                wait = backoff.Next();
                LastInterruption = e;
                Interlocked.Increment(ref _interruptions);
                metrics?.Restarted();
                logger.LogWarning(e, "Push worker interrupted; retrying in {Delay}", wait);
            }
            try
            {
                await Task.Delay(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Takes the lease and, while holding it, sends the log from the checkpoint on a bus of this run's own (stopped when
    /// the run ends, so a retry never reuses a connection or channel that failed). Returns at once when another node
    /// holds the lease (false); otherwise runs until an error, <paramref name="ct"/> or an operator's restart (true).
    /// </summary>
    private async Task<bool> RunWhileLeasedAsync(Backoff backoff, CancellationToken ct)
    {
        await using var lease = await Lease.TryTakeAsync(db, LeaseKey, ct);
        if (lease is null)
        {
            return false;
        }
        IBusControl? bus = null;
        try
        {
            Active = true;
            backoff.Reset();
            var started = await _status.StartedAsync(PushOptions.CheckpointName, ct);
            await StartAtHeadWhenNewAsync(ct);
            bus = await buses.StartAsync(ct);
            var endpoint = await bus.GetSendEndpoint(new Uri($"exchange:{options.Exchange}?type=direct"));
            // An operator's restart (POST /v1/admin/projections/push/restart) ends this run; the caller starts the next.
            if (await _status.RunUntilRestartAsync(PushOptions.CheckpointName, started, token => subscription.RunAsync(PushOptions.CheckpointName,
                    (batch, t) => SendBoundedAsync(endpoint, batch, options.ConfirmTimeout, metrics, t), CheckpointMode.AfterHandler, token), ct))
            {
                logger.LogInformation("Push worker restarted on request");
            }
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await TryRecordAsync(e);
            throw;
        }
        finally
        {
            Active = false;
            if (bus is not null)
            {
                await buses.StopAsync(bus);
            }
        }
    }

    private async Task TryRecordAsync(Exception e)
    {
        try
        {
            await _status.StoppedAsync(PushOptions.CheckpointName, "retrying", e, null, null, CancellationToken.None);
        }
        catch (Exception recording) when (recording is NpgsqlException or TimeoutException)
        {
            logger.LogDebug(recording, "Could not record the push worker's state");
        }
    }

    /// <summary>When this worker was created (with its host, before the host serves anything).</summary>
    private readonly DateTimeOffset _created = DateTimeOffset.UtcNow;

    /// <summary>
    /// A worker with no checkpoint (a new deployment) starts at the last event appended before its process started, not
    /// at position 0: re-sending the whole history would reach nobody who needs it (clients get what they missed with
    /// Resume, from the log), while events appended after the process started (while it waited for its lease, say) are
    /// still sent. The cursor is taken among events below the snapshot's xmin, in subscription order; on a log with no
    /// such event nothing is stored and the worker starts from the beginning.
    /// </summary>
    private async Task StartAtHeadWhenNewAsync(CancellationToken ct)
    {
        if (await checkpoints.StartAtLastBeforeAsync(PushOptions.CheckpointName, _created, ct))
        {
            logger.LogInformation("Push worker has no checkpoint: starting after the events appended before {Created}", _created);
        }
    }

    /// <summary>Most sends of a batch awaiting their broker confirm at once.</summary>
    public const int MaxInFlight = 512;

    /// <summary>
    /// <see cref="SendAsync"/> bounded by <paramref name="timeout"/>: past it the sends still waiting are cancelled and
    /// the batch fails with a <see cref="TimeoutException"/>, so the worker starts again from its checkpoint.
    /// </summary>
    /// <remarks>
    /// RabbitMQ.Client 7 waits for a publisher confirm without a limit of its own, and a confirm lost with a broker
    /// restart can leave a send waiting forever (rabbitmq-dotnet-client #1928/#1930): without this bound the worker
    /// would stop sending while still holding its lease. The wait itself is bounded too (<c>WaitAsync</c>), in case a
    /// send does not honour its cancellation. RabbitMQ.Client 7.2.2 (with MassTransit 8.5.12) fails the pending confirms
    /// of a channel that shuts down, but no test shows that every lost confirm now ends a send, so the bound stays.
    /// </remarks>
    private static async Task SendBoundedAsync(ISendEndpoint endpoint, EventBatch batch, TimeSpan timeout, PushMetrics? metrics, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout);
        try
        {
            await SendAsync(endpoint, batch, bounded.Token).WaitAsync(bounded.Token);
            metrics?.Sent(batch.Events.Count);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            metrics?.ConfirmTimedOut();
            throw new TimeoutException(
                $"The broker did not confirm a batch of {batch.Events.Count} events (up to {batch.Checkpoint}) within {timeout}", e);
        }
    }

    /// <summary>
    /// Sends a batch in log order with many sends in flight: every send is started in order on the bus's one channel
    /// (RabbitMQ keeps the order of messages published on one channel), and the confirms are awaited together; the
    /// subscription saves the checkpoint only after this returns, so after every message of the batch was confirmed.
    /// </summary>
    /// <remarks>
    /// The first send of a batch is awaited alone: it makes sure the bus's channel exists and the exchange was declared
    /// (MassTransit does both on first use), so the sends after it reach the channel in the order they are started.
    /// When one send fails the sends not yet started are not made and those still waiting are cancelled (they could
    /// otherwise reach a re-connected channel in any order), and the batch fails: the worker re-sends it from the
    /// checkpoint (at-least-once; gateways drop repeats by cursor).
    /// </remarks>
    private static async Task SendAsync(ISendEndpoint endpoint, EventBatch batch, CancellationToken ct)
    {
        var sends = new List<(PushMessage Message, string Key)>(batch.Events.Count);
        // One span per event whose append was traced, continuing that trace until the broker confirmed the batch; the
        // message carries it on to the gateways.
        List<Activity>? spans = null;
        foreach (var e in batch.Events)
        {
            if (PushRouting.ToMessage(e.StreamId, e.Version, e.Type, e.Data, e.TxId, e.Position, e.CreatedAt) is not { } message)
            {
                continue;
            }
            if (ChatActivity.StartFrom(ChatActivity.Push, ActivityKind.Producer, e.TraceParent) is { } span)
            {
                span.SetTag("chat.position", e.Position);
                (spans ??= []).Add(span);
                message = message with { TraceParent = span.Id };
            }
            foreach (var key in RoutingKeys.Of(message))
            {
                sends.Add((message, key));
            }
        }
        try
        {
            await SendInOrderAsync(endpoint, sends, ct);
        }
        catch (Exception e)
        {
            foreach (var span in spans ?? [])
            {
                span.SetStatus(ActivityStatusCode.Error, e.Message);
            }
            throw;
        }
        finally
        {
            foreach (var span in spans ?? [])
            {
                span.Dispose();
            }
        }
    }

    private static async Task SendInOrderAsync(ISendEndpoint endpoint, List<(PushMessage Message, string Key)> sends, CancellationToken ct)
    {
        if (sends.Count == 0)
        {
            return;
        }
        await Send(endpoint, sends[0], ct);
        if (sends.Count == 1)
        {
            return;
        }
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = new Queue<Task>(Math.Min(sends.Count, MaxInFlight));
        try
        {
            for (var i = 1; i < sends.Count; i++)
            {
                if (pending.Count == MaxInFlight)
                {
                    await pending.Dequeue();
                }
                pending.Enqueue(Send(endpoint, sends[i], failed.Token));
            }
            while (pending.Count > 0)
            {
                await pending.Dequeue();
            }
        }
        catch
        {
            await failed.CancelAsync();
            try
            {
                await Task.WhenAll(pending);
            }
#pragma warning disable CA1031 // the first failure is rethrown below; the others are consequences of it
            catch (Exception)
#pragma warning restore CA1031
            {
            }
            throw;
        }
    }

    private static Task Send(ISendEndpoint endpoint, (PushMessage Message, string Key) send, CancellationToken ct) =>
        endpoint.Send(send.Message, context => context.SetRoutingKey(send.Key), ct);
}
