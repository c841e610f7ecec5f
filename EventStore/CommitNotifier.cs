using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// Wakes subscribers (<c>NOTIFY es_events</c>) after appends commit, from outside the appending transaction:
/// PostgreSQL serializes the commits of transactions that notify, so notifying inside every append would cost every
/// writer a turn at a global lock. Notifications coalesce: at most one is in flight, and one more follows if appends
/// committed meanwhile. A lost notification only delays subscribers until their fallback poll. The readers of the
/// appending process itself (<paramref name="local"/>) are woken at once, and its mark in the notification keeps them
/// from waking twice.
/// </summary>
internal sealed class CommitNotifier(NpgsqlDataSource dataSource, AppendNotifier? local)
{
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(1);

    private int _state; // 0 idle, 1 notifying, 2 notifying and another one wanted

    public void Notify()
    {
        local?.AppendedHere();
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state == 2)
            {
                return;
            }
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
            {
                if (state == 0)
                {
                    _ = RunAsync();
                }
                return;
            }
        }
    }

    private async Task RunAsync()
    {
        do
        {
            // Gather the appends that commit in the next moment into the same notification: under load one NOTIFY
            // per millisecond wakes subscribers as well as one per append, at a fraction of the server's work.
            await Task.Delay(CoalesceWindow);
            try
            {
                await using var cmd = dataSource.CreateCommand("select pg_notify('es_events', $1)");
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = local?.Mark ?? "" });
                await cmd.ExecuteNonQueryAsync();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // Subscribers poll as a fallback.
            }
        }
        while (Interlocked.Decrement(ref _state) > 0);
    }
}
