using System.Security.Cryptography;
using System.Text;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Notifications;
using EventSourcedChat.EventStore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>
/// The notification worker (role <c>projector</c>): a catch-up subscription of its own over the log (checkpoint
/// <see cref="NotificationNames.Checkpoint"/>) that folds each batch into its tables and decides who is to be notified
/// (<see cref="NotificationLog"/>), and beside it the digest sender (<see cref="DigestSender"/>), which mails what is due.
/// One node runs it at a time: the one holding a PostgreSQL session advisory lock; others stand by. A lost database, a
/// moved checkpoint or an operator's restart (<c>POST /v1/admin/projections/notify/restart</c>) starts a new run from
/// the checkpoint.
/// </summary>
public sealed class NotificationWorker(
    NpgsqlDataSource db, CatchUpSubscription subscription, CheckpointStore checkpoints, NotificationLog log, DigestSender digests,
    NotificationSettings settings, ILogRunnerControl control, ResilienceOptions resilience, ILogger<NotificationWorker> logger)
    : BackgroundService
{
    public static long LeaseKey { get; } =
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("esc:lease:notification-worker")), 0);

    /// <summary>True while this process holds the lease and runs.</summary>
    public bool Active { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = resilience.NewBackoff();
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = await RunWhileLeasedAsync(backoff, stoppingToken)
                    ? TimeSpan.Zero
                    : TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(Random.Shared.Next(500));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (CheckpointMovedException e)
            {
                wait = TimeSpan.Zero;
                logger.LogInformation("{Message}", e.Message);
            }
            catch (Exception e)
            {
                wait = backoff.Next();
                logger.LogWarning(e, "Notification worker interrupted; retrying in {Delay}", wait);
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
    /// Takes the lease and, while holding it, follows the log from the checkpoint and sends due digests until an error,
    /// <paramref name="ct"/> or a restart request (true); false at once when another node holds the lease.
    /// </summary>
    private async Task<bool> RunWhileLeasedAsync(Backoff backoff, CancellationToken ct)
    {
        await using var lease = await Lease.TryTakeAsync(db, LeaseKey, ct);
        if (lease is null)
        {
            return false;
        }
        try
        {
            Active = true;
            backoff.Reset();
            var started = await control.StartedAsync(NotificationNames.Runner, ct);
            if (await control.RunUntilRestartAsync(NotificationNames.Runner, started, RunAsync, ct))
            {
                logger.LogInformation("Notification worker restarted on request");
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
        }
    }

    /// <summary>The subscription and the digest loop together; the first to fail ends both.</summary>
    private async Task RunAsync(CancellationToken ct)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var from = await checkpoints.LoadAsync(NotificationNames.Checkpoint, ct);
        var follow = subscription.RunAsync(NotificationNames.Checkpoint, async (batch, token) =>
        {
            await log.ApplyAsync(batch, from, token);
            from = batch.Checkpoint;
        }, CheckpointMode.ByHandler, run.Token, settings.Gather);
        var send = SendLoopAsync(run.Token);
        var first = await Task.WhenAny(follow, send);
        await run.CancelAsync();
        try
        {
            await Task.WhenAll(follow, send);
        }
        catch (OperationCanceledException) when (!first.IsFaulted)
        {
        }
        catch when (first.IsFaulted)
        {
            // The first failure is the run's own error.
        }
        await first;
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(settings.PollInterval);
        while (await timer.WaitForNextTickAsync(ct))
        {
            await digests.SendDueAsync(ct);
        }
    }

    private async Task TryRecordAsync(Exception e)
    {
        try
        {
            await control.StoppedAsync(NotificationNames.Runner, "retrying", e, null, null, CancellationToken.None);
        }
        catch (Exception recording) when (recording is NpgsqlException or TimeoutException)
        {
            logger.LogDebug(recording, "Could not record the notification worker's state");
        }
    }
}
