using System.Security.Cryptography;
using System.Text;
using EventSourcedChat.EventStore;
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
/// At-least-once: the messages of a batch are sent one after the other in log order, each awaited until the broker
/// confirms it (MassTransit with publisher confirmation), and the checkpoint moves only after the whole batch.
/// Sending in order keeps each gateway queue in (transaction id, position) order, which the gateways' resume
/// hand-over relies on; a crash re-sends at most one batch, which gateways drop by cursor.
/// One worker runs at a time: it holds a PostgreSQL advisory lock for as long as it runs; others stand by.
/// </remarks>
public sealed class PushWorker(
    NpgsqlDataSource db, CatchUpSubscription subscription, IBus bus, PushOptions options, ILogger<PushWorker> logger,
    ResilienceOptions? resilience = null)
    : BackgroundService
{
    public static long LeaseKey { get; } =
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("esc:lease:push-worker")), 0);

    /// <summary>True while this process holds the lease and runs.</summary>
    public bool Active { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A lost database or broker restarts the loop after a jittered, exponentially growing delay (Resilience:*).
        var backoff = (resilience ?? new ResilienceOptions()).NewBackoff();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var lease = await db.OpenConnectionAsync(stoppingToken);
                await using (var tryLock = new NpgsqlCommand("select pg_try_advisory_lock($1)", lease))
                {
                    tryLock.Parameters.AddWithValue(LeaseKey);
                    if (!(bool)(await tryLock.ExecuteScalarAsync(stoppingToken))!)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(Random.Shared.Next(500)), stoppingToken);
                        continue;
                    }
                }
                Active = true;
                backoff.Reset();
                var endpoint = await bus.GetSendEndpoint(new Uri($"exchange:{options.Exchange}?type=direct"));
                await subscription.RunAsync(PushOptions.CheckpointName, (batch, ct) => SendAsync(endpoint, batch, ct),
                    CheckpointMode.AfterHandler, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                var delay = backoff.Next();
                logger.LogWarning(e, "Push worker interrupted; retrying in {Delay}", delay);
                Active = false;
                await Task.Delay(delay, stoppingToken);
            }
            finally
            {
                Active = false;
            }
        }
    }

    private static async Task SendAsync(ISendEndpoint endpoint, EventBatch batch, CancellationToken ct)
    {
        foreach (var e in batch.Events)
        {
            if (PushRouting.ToMessage(e) is not { } message)
            {
                continue;
            }
            foreach (var key in PushRouting.KeysOf(message))
            {
                await endpoint.Send(message, context => context.SetRoutingKey(key), ct);
            }
        }
    }
}
