using System.Collections.Concurrent;
using System.Diagnostics;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// The presence keys of the users connected to this node. It writes when a user's first local connection opens, on
/// <c>SetPresence</c>, when their last local connection closes, and otherwise only when a key it keeps alive is near
/// expiry (<see cref="RefreshAsync"/>, on a timer), never per heartbeat. A node that dies stops renewing: its users'
/// keys expire within the TTL. Connect, disconnect, set and refresh of one user run one at a time here (striped locks).
/// </summary>
public sealed class LocalPresence(PresenceStore store, PresenceOptions options, LocalConnections local)
{
    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    // When this node last wrote each user's presence key (Stopwatch ticks); absent or 0 means "write at the next tick".
    private readonly ConcurrentDictionary<string, long> _written = new(StringComparer.Ordinal);

    public bool Has(string userId) => local.Has(userId);

    /// <summary>A connection opened: the user's first one here makes this node hold them (active unless away).</summary>
    public Task ConnectedAsync(string connectionId, string userId) => UnderStripeAsync(userId, async () =>
    {
        if (local.Add(userId, connectionId) == 1)
        {
            await TouchAsync(userId);
        }
    });

    /// <summary>
    /// A connection closed: on the user's last one here this node lets go of them, and they go offline unless another
    /// live node still holds connections of theirs.
    /// </summary>
    public Task DisconnectedAsync(string connectionId, string userId) => UnderStripeAsync(userId, async () =>
    {
        if (local.Remove(userId, connectionId) > 0)
        {
            return;
        }
        _written.TryRemove(userId, out _);
        await store.LeaveAsync(userId);
    });

    /// <summary>The user's status, for all their connections and nodes; nothing when their last connection closed meanwhile.</summary>
    public Task SetAsync(string userId, string status) => UnderStripeAsync(userId, async () =>
    {
        if (local.Has(userId) && await store.SetAsync(userId, status))
        {
            _written[userId] = Stopwatch.GetTimestamp();
        }
    });

    /// <summary>
    /// Renews this node's liveness key and, for users with local connections, their keys when less than
    /// <see cref="PresenceOptions.RefreshBelow"/> is left of them (by this node's record of its last write).
    /// </summary>
    public async Task RefreshAsync()
    {
        await store.HeartbeatAsync();
        var dueAfter = options.Ttl - options.RefreshBelow;
        var due = local.Users()
            .Where(u => !_written.TryGetValue(u, out var at) || at == 0 || Stopwatch.GetElapsedTime(at) >= dueAfter)
            .ToList();
        await Task.WhenAll(due.Select(user => UnderStripeAsync(user, async () =>
        {
            if (local.Has(user))
            {
                await TouchAsync(user);
            }
        })));
    }

    /// <summary>
    /// Marks the user's keys for a rewrite at the next refresh when they are connected here (their key expired under a
    /// live connection: Redis lost it, or this node stalled past the TTL). Answers whether they are.
    /// </summary>
    public bool RewriteIfHeld(string userId)
    {
        if (!local.Has(userId))
        {
            return false;
        }
        _written[userId] = 0;
        return true;
    }

    /// <summary>After Redis came back (maybe empty): rewrite every local user's keys at the next tick.</summary>
    public void ForgetWrites()
    {
        foreach (var user in _written.Keys)
        {
            _written[user] = 0;
        }
    }

    private async Task TouchAsync(string userId)
    {
        if (await store.TouchAsync(userId))
        {
            _written[userId] = Stopwatch.GetTimestamp();
        }
    }

    private async Task UnderStripeAsync(string userId, Func<Task> work)
    {
        var stripe = _stripes[(StringComparer.Ordinal.GetHashCode(userId) & int.MaxValue) % _stripes.Length];
        await stripe.WaitAsync();
        try
        {
            await work();
        }
        finally
        {
            stripe.Release();
        }
    }
}
