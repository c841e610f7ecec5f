namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// The hub connections open on this node, per user. Presence refreshes the keys of the users found here, typing
/// excludes the typist's connections, and the gateway registry reports <see cref="Count"/> as this node's load.
/// </summary>
public sealed class LocalConnections
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<string>> _byUser = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Adds a connection; answers how many the user now has on this node.</summary>
    public int Add(string userId, string connectionId)
    {
        lock (_gate)
        {
            if (!_byUser.TryGetValue(userId, out var set))
            {
                _byUser[userId] = set = new HashSet<string>(StringComparer.Ordinal);
            }
            if (set.Add(connectionId))
            {
                _count++;
            }
            return set.Count;
        }
    }

    /// <summary>Removes a connection; answers how many the user still has on this node.</summary>
    public int Remove(string userId, string connectionId)
    {
        lock (_gate)
        {
            if (!_byUser.TryGetValue(userId, out var set))
            {
                return 0;
            }
            if (set.Remove(connectionId))
            {
                _count--;
            }
            if (set.Count == 0)
            {
                _byUser.Remove(userId);
            }
            return set.Count;
        }
    }

    public bool Has(string userId)
    {
        lock (_gate)
        {
            return _byUser.ContainsKey(userId);
        }
    }

    public IReadOnlyList<string> ConnectionsOf(string userId)
    {
        lock (_gate)
        {
            return _byUser.TryGetValue(userId, out var set) ? [.. set] : [];
        }
    }

    public IReadOnlyList<string> Users()
    {
        lock (_gate)
        {
            return [.. _byUser.Keys];
        }
    }
}
