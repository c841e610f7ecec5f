using EventSourcedChat.EventStore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// The one reader of the log for the projections of a node that have caught up: it reads each batch once and applies
/// it to every member in one transaction (<see cref="SharedBatch"/>), each member's checkpoint row moving with its rows.
/// </summary>
/// <remarks>
/// A projection joins at its checkpoint once its own catch-up reaches the head (<see cref="ProjectionRunner"/>); members
/// may stand at different cursors, so the reader reads from the lowest and gives each member only the events after its
/// own. A member leaves, and its runner goes back to catching up alone from its checkpoint in the database, when:
/// its switch lock is held elsewhere (a rebuild's switch-over: it rejoins once past it; the others do not wait);
/// its checkpoint moved under it (another runner, a switch-over); its restart is requested or its run is cancelled;
/// or an error ends the batch. An error that the same event would raise again is first narrowed down: each member
/// applies the batch alone, so the members that can apply it go on and only the one that cannot leaves, with the
/// <see cref="ProjectionFailedException"/> that its runner counts towards stopping it. Any other error (a lost
/// connection, a deadlock) makes every member leave with it; each one's runner retries with backoff as before.
/// </remarks>
internal sealed class SharedReader(NpgsqlDataSource db, CatchUpSubscription log, Func<SharedPart, CancellationToken, Task> applyAlone, ILogger logger)
{
    private readonly object _gate = new();
    private readonly List<Member> _members = [];
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Adds <paramref name="projection"/>, whose checkpoint stands at <paramref name="at"/>; completes when it leaves:
    /// normally when it must catch up alone again, with an error when one ended its membership, cancelled when
    /// <paramref name="ct"/> was (after any batch under way that includes it has ended). <paramref name="applied"/> runs
    /// after each batch it committed.
    /// </summary>
    /// <returns>Where the member's checkpoint stood when it left.</returns>
    public async Task<LogCursor> JoinAsync(Projection projection, LogCursor at, Action applied, CancellationToken ct)
    {
        var member = new Member(projection, at, applied, ct);
        lock (_gate)
        {
            _members.Add(member);
        }
        await using (ct.Register(Wake))
        {
            Wake();
            await member.Left.Task;
        }
        return member.At;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        var pendingDelay = TimeSpan.Zero;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var wake = Volatile.Read(ref _wake).Task;
                var members = Current();
                if (members.Count == 0)
                {
                    await wake.WaitAsync(stopping);
                    continue;
                }
                bool full, pending;
                var read = 0;
                // Taken before the read: an append committed while it runs wakes the wait below at once.
                var appended = log.NextAppend;
                try
                {
                    var from = members.Min(m => m.At);
                    (var events, pending) = await log.ReadAsync(from, stopping);
                    read = events.Count;
                    full = events.Count == log.BatchSize;
                    if (events.Count > 0)
                    {
                        await ApplyAsync(members, events, stopping);
                    }
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    // The read or the batch failed for a reason of its environment: every member retries on its own.
                    foreach (var member in members)
                    {
                        Leave(member, e);
                    }
                    continue;
                }
                if (full)
                {
                    pendingDelay = TimeSpan.Zero;
                    continue;
                }
                if (pending)
                {
                    // Back off only while nothing comes through; a read that applied events starts again from 1 ms.
                    pendingDelay = log.NextPendingDelay(read > 0 ? TimeSpan.Zero : pendingDelay);
                    await Task.WhenAny(log.WaitWhilePendingAsync(appended, pendingDelay, stopping), wake);
                }
                else
                {
                    pendingDelay = TimeSpan.Zero;
                    await Task.WhenAny(log.WaitForAppendAsync(appended, stopping), wake);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_gate)
            {
                foreach (var member in _members)
                {
                    member.Left.TrySetCanceled(stopping);
                }
                _members.Clear();
            }
        }
    }

    private async Task ApplyAsync(IReadOnlyList<Member> members, IReadOnlyList<RecordedEvent> events, CancellationToken ct)
    {
        var parts = new List<(Member Member, SharedPart Part)>();
        foreach (var member in members)
        {
            var after = events.Where(e => e.Cursor > member.At).ToList();
            if (after.Count > 0)
            {
                parts.Add((member, new SharedPart(member.Projection, member.At, after)));
            }
        }
        if (parts.Count == 0)
        {
            return;
        }
        try
        {
            var busy = await SharedBatch.ApplyAsync(db, [.. parts.Select(p => p.Part)], ct);
            foreach (var (member, part) in parts)
            {
                if (busy.Contains(part))
                {
                    logger.LogDebug("Projection {Projection} is switching over elsewhere; it catches up alone", member.Projection.Name);
                    Leave(member, null);
                }
                else
                {
                    member.Applied(part.Events[^1].Cursor);
                }
            }
        }
        catch (SharedPartMovedException moved)
        {
            Leave(parts.Single(p => p.Part == moved.Part).Member, new LostLeaseException(moved.Message));
        }
        catch (Exception e) when (ProjectionBatch.IsBadEvent(e))
        {
            // Some member cannot apply an event: each applies the batch alone, so only the ones that cannot leave.
            foreach (var (member, part) in parts)
            {
                try
                {
                    await applyAlone(part, ct);
                    member.Applied(part.Events[^1].Cursor);
                }
                catch (Exception alone) when (!ct.IsCancellationRequested)
                {
                    Leave(member, alone);
                }
            }
        }
    }

    /// <summary>The members, after those whose run was cancelled have left.</summary>
    private List<Member> Current()
    {
        lock (_gate)
        {
            foreach (var gone in _members.Where(m => m.Token.IsCancellationRequested).ToList())
            {
                _members.Remove(gone);
                gone.Left.TrySetCanceled(gone.Token);
            }
            return [.. _members];
        }
    }

    private void Leave(Member member, Exception? error)
    {
        lock (_gate)
        {
            _members.Remove(member);
        }
        if (error is null)
        {
            member.Left.TrySetResult();
        }
        else
        {
            member.Left.TrySetException(error);
        }
    }

    private void Wake() => Interlocked.Exchange(
        ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private sealed class Member(Projection projection, LogCursor at, Action applied, CancellationToken token)
    {
        public Projection Projection { get; } = projection;

        public LogCursor At { get; set; } = at;

        public CancellationToken Token { get; } = token;

        public TaskCompletionSource Left { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Applied(LogCursor at)
        {
            At = at;
            applied();
        }
    }
}
