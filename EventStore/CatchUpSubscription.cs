namespace EventSourcedChat.EventStore;

/// <summary>A batch handed to a subscriber, and the cursor to store once it is handled.</summary>
public sealed record EventBatch(IReadOnlyList<RecordedEvent> Events, LogCursor Checkpoint);

public enum CheckpointMode
{
    /// <summary>The subscription saves the checkpoint after the handler returns (at-least-once), without waiting for the
    /// commit's flush (<see cref="CheckpointStore.SaveProgressAsync"/>): a crash may hand the last batches again.</summary>
    AfterHandler,

    /// <summary>The handler saves <see cref="EventBatch.Checkpoint"/> itself, in its own transaction (exactly once in effect).</summary>
    ByHandler,
}

/// <summary>
/// A named catch-up subscription over the global log: from its stored checkpoint it reads history in batches,
/// then waits for notifications (with a fallback poll) and goes on, always in (transaction id, position) order.
/// </summary>
/// <remarks>
/// Ordering technique: every event row stores the id of the transaction that wrote it (<c>xid8</c>). A read only
/// returns rows whose transaction id is below the current snapshot's xmin, the oldest transaction still running;
/// every transaction below it has ended, so no row can later appear behind the cursor. Rows come ordered by
/// (transaction id, position) and the checkpoint holds both. A long-open writing transaction anywhere in the
/// database cluster therefore delays every subscriber until it ends; nothing is ever skipped.
/// </remarks>
public sealed class CatchUpSubscription(
    PostgresEventStore store, CheckpointStore checkpoints, AppendNotifier notifier, EventStoreOptions options)
{
    /// <summary>Events per read (<see cref="EventStoreOptions.SubscriptionBatchSize"/>): a read that returns fewer is at the head.</summary>
    public int BatchSize => options.SubscriptionBatchSize;

    /// <summary>
    /// One read of up to <see cref="BatchSize"/> events after <paramref name="from"/>, in subscription order; Pending when
    /// committed events wait behind an older open transaction. For readers that run their own loop (the projections'
    /// shared reader).
    /// </summary>
    public Task<(IReadOnlyList<RecordedEvent> Events, bool Pending)> ReadAsync(LogCursor from, CancellationToken ct) =>
        store.ReadSubscriptionBatchAsync(from, options.SubscriptionBatchSize, ct);

    /// <summary>A ticket for the next append notification (<see cref="AppendNotifier.NextAppend"/>): take it before a read.</summary>
    public Task NextAppend => notifier.NextAppend;

    /// <summary>
    /// After a read that reached the head: completes when <paramref name="appended"/> (taken before the read) does, i.e.
    /// at once when something was appended while the read ran, or after <see cref="EventStoreOptions.FallbackPollInterval"/>.
    /// </summary>
    public Task WaitForAppendAsync(Task appended, CancellationToken ct) =>
        AppendNotifier.WaitAsync(appended, options.FallbackPollInterval, ct);

    /// <summary>
    /// After a read that found committed events pending behind an older open transaction: completes after
    /// <paramref name="delay"/> or, sooner, at an append notification after <paramref name="appended"/> was taken (the
    /// open transaction is most often an append, which notifies at its commit).
    /// </summary>
    public Task WaitWhilePendingAsync(Task appended, TimeSpan delay, CancellationToken ct) =>
        AppendNotifier.WaitAsync(appended, delay, ct);

    /// <summary>The delay before looking again when the last read found events pending behind an open transaction.</summary>
    public TimeSpan NextPendingDelay(TimeSpan last) => last == TimeSpan.Zero
        ? TimeSpan.FromMilliseconds(1)
        : TimeSpan.FromTicks(Math.Min(last.Ticks * 2, options.FallbackPollInterval.Ticks));

    /// <summary>Runs until <paramref name="ct"/> is cancelled or the handler throws (the error propagates; the
    /// checkpoint stays at the last handled batch).</summary>
    /// <param name="gather">At the head, how long to let appends gather after one is notified before reading them: a
    /// subscriber for which some latency does not matter (mail notifications) then reads, handles and commits once per
    /// such window instead of once per post. Zero (the default) reads at once.</param>
    public async Task RunAsync(
        string name, Func<EventBatch, CancellationToken, Task> handler,
        CheckpointMode mode = CheckpointMode.AfterHandler, CancellationToken ct = default, TimeSpan gather = default)
    {
        var cursor = await checkpoints.LoadAsync(name, ct);
        var backoff = TimeSpan.Zero;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task<(IReadOnlyList<RecordedEvent> Events, bool Pending)>? next = null;
        // Taken before each read: a notification that arrives while the read runs is not lost.
        var appended = notifier.NextAppend;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (next is null)
                {
                    appended = notifier.NextAppend;
                }
                var (events, pending) = await (next ?? store.ReadSubscriptionBatchAsync(cursor, options.SubscriptionBatchSize, ct));
                next = null;
                var full = events.Count == options.SubscriptionBatchSize;
                if (events.Count > 0)
                {
                    var batch = new EventBatch(events, events[^1].Cursor);
                    // Behind the head, the next batch is read while this one is handled: reading and applying overlap.
                    if (full)
                    {
                        appended = notifier.NextAppend;
                        next = store.ReadSubscriptionBatchAsync(batch.Checkpoint, options.SubscriptionBatchSize, stop.Token);
                    }
                    await handler(batch, ct);
                    if (mode == CheckpointMode.AfterHandler)
                    {
                        await checkpoints.SaveProgressAsync(name, batch.Checkpoint, ct);
                    }
                    cursor = batch.Checkpoint;
                    backoff = TimeSpan.Zero;
                    if (full)
                    {
                        continue;
                    }
                }

                if (pending)
                {
                    // Committed events wait behind an older open transaction; look again soon, backing off, or at once
                    // when an append commits (most often the transaction waited for).
                    backoff = NextPendingDelay(backoff);
                    await WaitWhilePendingAsync(appended, backoff, ct);
                }
                else
                {
                    await WaitForAppendAsync(appended, ct);
                    if (gather > TimeSpan.Zero && appended.IsCompleted)
                    {
                        await Task.Delay(gather, ct);
                    }
                }
            }
        }
        finally
        {
            if (next is not null)
            {
                // The handler failed or the run stopped with a read under way: end it and observe its outcome.
                await stop.CancelAsync();
                try
                {
                    await next;
                }
#pragma warning disable CA1031 // The read's result is no longer wanted; its failure must not hide the run's own error.
                catch (Exception)
                {
                }
#pragma warning restore CA1031
            }
        }
    }
}
