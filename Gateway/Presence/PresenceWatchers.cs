namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// Which local connections watch whose presence: one subscription per connection (a set of users, replaced whole by
/// each <c>SubscribePresence</c>), and per user the connections watching them. In memory, under one lock.
/// </summary>
public sealed class PresenceWatchers
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<string>> _watchers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);

    /// <summary>Replaces the connection's subscription with one to <paramref name="users"/> and answers it.</summary>
    public Subscription Replace(string connectionId, IReadOnlyCollection<string> users)
    {
        var subscription = new Subscription([.. users]);
        lock (_gate)
        {
            RemoveLocked(connectionId);
            _subscriptions[connectionId] = subscription;
            foreach (var user in users)
            {
                if (!_watchers.TryGetValue(user, out var set))
                {
                    _watchers[user] = set = new HashSet<string>(StringComparer.Ordinal);
                }
                set.Add(connectionId);
            }
        }
        return subscription;
    }

    /// <summary>The connection closed: it watches no one any more.</summary>
    public void Remove(string connectionId)
    {
        lock (_gate)
        {
            RemoveLocked(connectionId);
        }
    }

    /// <summary>
    /// Whether the snapshot of <paramref name="user"/> is still to be sent under <paramref name="subscription"/>: it is
    /// still the connection's subscription and no change of the user was delivered to it since (that one is newer).
    /// </summary>
    public bool SnapshotWanted(string connectionId, Subscription subscription, string user)
    {
        lock (_gate)
        {
            return _subscriptions.TryGetValue(connectionId, out var current) && ReferenceEquals(current, subscription)
                && !subscription.Changed.Contains(user);
        }
    }

    public bool IsWatched(string userId)
    {
        lock (_gate)
        {
            return _watchers.TryGetValue(userId, out var set) && set.Count > 0;
        }
    }

    /// <summary>Every user some local connection watches.</summary>
    public IReadOnlyList<string> WatchedUsers()
    {
        lock (_gate)
        {
            return [.. _watchers.Keys];
        }
    }

    /// <summary>
    /// The connections to tell of a change of <paramref name="userId"/>, each subscription marked as having had one (so
    /// a snapshot read before it is not sent after it); empty when nobody here watches the user.
    /// </summary>
    public IReadOnlyList<string> TakeChange(string userId)
    {
        lock (_gate)
        {
            if (!_watchers.TryGetValue(userId, out var set) || set.Count == 0)
            {
                return [];
            }
            List<string> connections = [.. set];
            foreach (var connection in connections)
            {
                if (_subscriptions.TryGetValue(connection, out var subscription))
                {
                    subscription.Changed.Add(userId);
                }
            }
            return connections;
        }
    }

    private void RemoveLocked(string connectionId)
    {
        if (!_subscriptions.Remove(connectionId, out var old))
        {
            return;
        }
        foreach (var user in old.Users)
        {
            if (_watchers.TryGetValue(user, out var set) && set.Remove(connectionId) && set.Count == 0)
            {
                _watchers.Remove(user);
            }
        }
    }

    /// <summary>One <c>SubscribePresence</c> of a connection.</summary>
    public sealed record Subscription(HashSet<string> Users)
    {
        /// <summary>Users a change was delivered for since this subscription began (their snapshot is older).</summary>
        public HashSet<string> Changed { get; } = new(StringComparer.Ordinal);
    }
}
