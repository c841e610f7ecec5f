using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// One LISTEN connection per process on the <c>es_events</c> channel (notified by <c>es_append</c> at commit).
/// Subscriptions wait on it instead of polling; they still poll at a slow interval in case a notification is lost.
/// </summary>
public sealed class AppendNotifier(NpgsqlDataSource dataSource, ILogger<AppendNotifier> logger, ResilienceOptions? resilience = null)
    : BackgroundService
{
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// A ticket for the next notification: completes at the first notification after it was taken. Take it before a
    /// read and wait on it after: an append committed while the read ran (after its snapshot) completes the ticket,
    /// so the reader looks again at once instead of sleeping until the append after it or the fallback poll.
    /// </summary>
    public Task NextAppend => Volatile.Read(ref _signal).Task;

    /// <summary>Completes at the next notification, or after <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => WaitAsync(NextAppend, timeout, ct);

    /// <summary>Completes when <paramref name="ticket"/> (from <see cref="NextAppend"/>) does, or after <paramref name="timeout"/>.</summary>
    public static async Task WaitAsync(Task ticket, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await ticket.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>
    /// This notifier's own mark, the payload of the notifications its process's appends send (<see cref="CommitNotifier"/>):
    /// those appends wake this process's readers at once (<see cref="AppendedHere"/>), so their notification, when it
    /// comes back, is not a second wake-up here; it still wakes every other process.
    /// </summary>
    internal string Mark { get; } = Guid.NewGuid().ToString("N");

    /// <summary>An append of this process committed: its readers look at once, without the round trip through PostgreSQL.</summary>
    internal void AppendedHere() => Signal();

    private void Signal() => Interlocked.Exchange(
        ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = (resilience ?? new ResilienceOptions()).NewBackoff();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var conn = await dataSource.OpenConnectionAsync(stoppingToken);
                try
                {
                    conn.Notification += (_, e) =>
                    {
                        if (e.Payload != Mark)
                        {
                            Signal();
                        }
                    };
                    await using (var cmd = new NpgsqlCommand("listen es_events", conn))
                    {
                        await cmd.ExecuteNonQueryAsync(stoppingToken);
                    }
                    backoff.Reset();
                    Signal(); // anything appended while we were not listening
                    while (!stoppingToken.IsCancellationRequested)
                    {
                        await conn.WaitAsync(stoppingToken);
                    }
                }
                finally
                {
                    await SessionState.ReleaseAsync(conn, "unlisten *"); // the pool does not reset sessions
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.IO.IOException or TimeoutException)
            {
                var delay = backoff.Next();
                logger.LogWarning(e, "Event notification listener lost its connection; retrying in {Delay}", delay);
                Signal();
                await Task.Delay(delay, stoppingToken);
            }
        }
    }
}
