namespace EventSourcedChat.Commands.Infrastructure;

/// <summary>
/// Group commit per key (a stream): the first command for a key starts a runner that commits it at once; commands that
/// arrive while that commit is in flight wait in the key's queue and go together into the next transaction, up to
/// <see cref="MaxGroup"/> at a time. Nothing waits for a timer: an idle key commits a lone command immediately, and a
/// command waits at most for the commit in flight plus its own group's. One runner per key and process, so a key's
/// groups commit in arrival order; the event store's stream lock orders them against other processes.
/// </summary>
/// <typeparam name="TItem">One command of a group.</typeparam>
/// <typeparam name="TResult">What the command answers.</typeparam>
public sealed class GroupCommit<TItem, TResult>(GroupCommit<TItem, TResult>.Run run, int maxGroup = GroupCommit<TItem, TResult>.DefaultMaxGroup)
{
    public const int DefaultMaxGroup = 256;

    /// <summary>
    /// Commits one group of a key in one transaction. Answers one outcome per item, in order: a result or the exception
    /// that item alone gets (a refused decision). An exception thrown by the run itself fails the whole group.
    /// </summary>
    public delegate Task<IReadOnlyList<Outcome>> Run(string key, IReadOnlyList<TItem> items);

    /// <summary>A command's own result, or the exception it alone answers.</summary>
    public readonly record struct Outcome(TResult? Result, Exception? Error)
    {
        public static Outcome Of(TResult result) => new(result, null);

        public static Outcome Failed(Exception error) => new(default, error);
    }

    private sealed record Pending(TItem Item, TaskCompletionSource<TResult> Done);

    private readonly Dictionary<string, List<Pending>> _queues = [];
    private readonly Lock _gate = new();

    public int MaxGroup => maxGroup;

    /// <summary>How many groups and commands were committed (the ratio is the mean group size).</summary>
    public (long Groups, long Items) Committed => (Interlocked.Read(ref _groups), Interlocked.Read(ref _items));

    private long _groups;
    private long _items;

    /// <summary>How many commands of the key wait for its next group (not counting the group in flight).</summary>
    public int Queued(string key)
    {
        lock (_gate)
        {
            return _queues.TryGetValue(key, out var queue) ? queue.Count : 0;
        }
    }

    /// <summary>Queues <paramref name="item"/> for its key's next group; completes when that group has committed.</summary>
    public Task<TResult> SubmitAsync(string key, TItem item)
    {
        var pending = new Pending(item, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (_gate)
        {
            start = !_queues.TryGetValue(key, out var queue);
            if (start)
            {
                _queues[key] = queue = [];
            }
            queue!.Add(pending);
        }
        if (start)
        {
            _ = Task.Run(() => DrainAsync(key));
        }
        return pending.Done.Task;
    }

    private async Task DrainAsync(string key)
    {
        while (true)
        {
            List<Pending> group;
            lock (_gate)
            {
                var queue = _queues[key];
                if (queue.Count == 0)
                {
                    _queues.Remove(key);
                    return;
                }
                group = queue.Count <= maxGroup ? [.. queue] : queue.GetRange(0, maxGroup);
                queue.RemoveRange(0, group.Count);
            }
            await CommitAsync(key, group);
        }
    }

    private async Task CommitAsync(string key, List<Pending> group)
    {
        try
        {
            var outcomes = await run(key, group.ConvertAll(p => p.Item));
            Interlocked.Increment(ref _groups);
            Interlocked.Add(ref _items, group.Count);
            for (var i = 0; i < group.Count; i++)
            {
                if (outcomes[i].Error is { } error)
                {
                    group[i].Done.TrySetException(error);
                }
                else
                {
                    group[i].Done.TrySetResult(outcomes[i].Result!);
                }
            }
        }
        catch (Exception e)
        {
            foreach (var p in group)
            {
                p.Done.TrySetException(e);
            }
        }
    }
}
