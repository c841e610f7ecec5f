namespace EventSourcedChat.Commands.Infrastructure;

/// <summary>
/// Group commit per key (a stream), across keys: commands wait in their key's queue, and a runner commits the queues of
/// every waiting key it can take (up to <see cref="MaxKeys"/> keys, <see cref="MaxGroup"/> commands each) in one
/// transaction. At most <see cref="MaxRunners"/> runners commit at once; a key is in one runner's transaction at a
/// time, so its groups commit in arrival order, and the event store's stream lock orders them against other processes.
/// Nothing waits for a timer: an idle node commits a lone command at once, and commands that arrive while commits are
/// in flight go together into the next ones.
/// </summary>
/// <typeparam name="TItem">One command of a group.</typeparam>
/// <typeparam name="TResult">What the command answers.</typeparam>
public sealed class GroupCommit<TItem, TResult>(
    GroupCommit<TItem, TResult>.Run run, int maxGroup = GroupCommit<TItem, TResult>.DefaultMaxGroup,
    int maxRunners = GroupCommit<TItem, TResult>.DefaultMaxRunners, int maxKeys = GroupCommit<TItem, TResult>.DefaultMaxKeys)
{
    public const int DefaultMaxGroup = 256;

    public const int DefaultMaxRunners = 4;

    public const int DefaultMaxKeys = 64;

    /// <summary>
    /// Commits the groups of several keys in one transaction, the first one first. Answers, per group in order, one
    /// outcome per item (a result or the exception that item alone gets), or null for a group left out of this
    /// transaction (its key was busy elsewhere): its items go back to the front of their queue, and the next
    /// transaction takes that key first and alone. An exception thrown by the run itself fails every item of every group.
    /// </summary>
    public delegate Task<IReadOnlyList<IReadOnlyList<Outcome>?>> Run(IReadOnlyList<KeyGroup> groups);

    /// <summary>The commands of one key in a transaction, in arrival order.</summary>
    public sealed record KeyGroup(string Key, IReadOnlyList<TItem> Items);

    /// <summary>A command's own result, or the exception it alone answers.</summary>
    public readonly record struct Outcome(TResult? Result, Exception? Error)
    {
        public static Outcome Of(TResult result) => new(result, null);

        public static Outcome Failed(Exception error) => new(default, error);
    }

    private sealed record Pending(TItem Item, TaskCompletionSource<TResult> Done);

    private sealed record Taken(string Key, List<Pending> Items);

    private readonly Dictionary<string, List<Pending>> _queues = [];
    private readonly List<string> _ready = []; // keys with queued commands and not in a transaction, in the order to take them
    private readonly HashSet<string> _inFlight = [];
    private readonly HashSet<string> _wasBusy = []; // left out of a transaction: its next turn is a transaction of its own
    private readonly Lock _gate = new();
    private int _runners;

    private long _groups;
    private long _items;
    private long _transactions;

    public int MaxGroup => maxGroup;

    public int MaxRunners => maxRunners;

    public int MaxKeys => maxKeys;

    /// <summary>How many key groups and commands were committed (the ratio is the mean group size).</summary>
    public (long Groups, long Items) Committed => (Interlocked.Read(ref _groups), Interlocked.Read(ref _items));

    /// <summary>How many transactions committed groups (at most one per group; fewer when keys share one).</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>How many commands of the key wait for its next group (not counting a group in flight).</summary>
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
            if (!_queues.TryGetValue(key, out var queue))
            {
                _queues[key] = queue = [];
                if (!_inFlight.Contains(key))
                {
                    _ready.Add(key);
                }
            }
            queue.Add(pending);
            start = _runners < maxRunners && _ready.Count > 0;
            if (start)
            {
                _runners++;
            }
        }
        if (start)
        {
            _ = Task.Run(DrainAsync);
        }
        return pending.Done.Task;
    }

    private async Task DrainAsync()
    {
        while (Take() is { } taken)
        {
            List<Taken>? requeue = null;
            try
            {
                requeue = await CommitAsync(taken);
            }
            finally
            {
                Release(taken, requeue);
            }
        }
    }

    /// <summary>The next transaction's groups, in the order of <see cref="_ready"/>; null (and one runner less) when none wait.</summary>
    private List<Taken>? Take()
    {
        lock (_gate)
        {
            if (_ready.Count == 0)
            {
                _runners--;
                return null;
            }
            // A key left out because it was busy elsewhere goes alone, so the others do not wait on its lock with it.
            var keys = _wasBusy.Remove(_ready[0]) ? [_ready[0]] : _ready.Take(maxKeys).ToList();
            _ready.RemoveRange(0, keys.Count);
            var taken = new List<Taken>(keys.Count);
            foreach (var key in keys)
            {
                var queue = _queues[key];
                var group = queue.Count <= maxGroup ? [.. queue] : queue.GetRange(0, maxGroup);
                queue.RemoveRange(0, group.Count);
                if (queue.Count == 0)
                {
                    _queues.Remove(key);
                }
                _inFlight.Add(key);
                taken.Add(new Taken(key, group));
            }
            return taken;
        }
    }

    /// <summary>
    /// Ends the keys' turn: groups left out go back to the front of their queues and their keys first in line, each to
    /// be taken alone next (its transaction waits for the lock that was busy).
    /// </summary>
    private void Release(List<Taken> taken, List<Taken>? requeue)
    {
        lock (_gate)
        {
            var first = new List<string>();
            foreach (var (key, items) in requeue ?? [])
            {
                if (_queues.TryGetValue(key, out var queue))
                {
                    queue.InsertRange(0, items);
                }
                else
                {
                    _queues[key] = [.. items];
                }
                first.Add(key);
                _wasBusy.Add(key);
            }
            foreach (var (key, _) in taken)
            {
                _inFlight.Remove(key);
                if (_queues.ContainsKey(key) && !first.Contains(key))
                {
                    _ready.Add(key);
                }
            }
            _ready.InsertRange(0, first);
        }
    }

    /// <returns>The groups left out of the transaction, to queue again.</returns>
    private async Task<List<Taken>> CommitAsync(List<Taken> taken)
    {
        var requeue = new List<Taken>();
        try
        {
            var outcomes = await run(taken.ConvertAll(t => new KeyGroup(t.Key, t.Items.ConvertAll(p => p.Item))));
            var committed = false;
            for (var g = 0; g < taken.Count; g++)
            {
                if (outcomes[g] is not { } groupOutcomes)
                {
                    requeue.Add(taken[g]);
                    continue;
                }
                committed = true;
                Interlocked.Increment(ref _groups);
                Interlocked.Add(ref _items, taken[g].Items.Count);
                for (var i = 0; i < taken[g].Items.Count; i++)
                {
                    if (groupOutcomes[i].Error is { } error)
                    {
                        taken[g].Items[i].Done.TrySetException(error);
                    }
                    else
                    {
                        taken[g].Items[i].Done.TrySetResult(groupOutcomes[i].Result!);
                    }
                }
            }
            if (committed)
            {
                Interlocked.Increment(ref _transactions);
            }
        }
        catch (Exception e)
        {
            requeue.Clear();
            foreach (var pending in taken.SelectMany(t => t.Items))
            {
                pending.Done.TrySetException(e);
            }
        }
        return requeue;
    }
}
