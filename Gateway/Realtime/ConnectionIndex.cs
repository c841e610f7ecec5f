namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// Local connections by key (a channel id or a user id), as <see cref="ConnectionRegistry"/> keeps them: adding the
/// first connection of a key and removing the last are reported, since those bind and unbind the key at the broker.
/// Not thread-safe: the registry guards it with its lock.
/// </summary>
internal sealed class ConnectionIndex
{
    private readonly Dictionary<string, HashSet<ConnectionState>> _sets = new(StringComparer.Ordinal);

    /// <summary>How many keys have at least one connection.</summary>
    public int Count => _sets.Count;

    public bool TryGet(string key, out HashSet<ConnectionState> connections) => _sets.TryGetValue(key, out connections!);

    /// <summary>Adds a connection to a key; true when it is the key's first (bind).</summary>
    public bool Add(string key, ConnectionState state)
    {
        if (!_sets.TryGetValue(key, out var set))
        {
            _sets[key] = set = [];
        }
        return set.Add(state) && set.Count == 1;
    }

    /// <summary>Removes a connection from a key; true when it was the key's last (unbind).</summary>
    public bool Remove(string key, ConnectionState state)
    {
        if (!_sets.TryGetValue(key, out var set) || !set.Remove(state))
        {
            return false;
        }
        if (set.Count == 0)
        {
            _sets.Remove(key);
            return true;
        }
        return false;
    }
}
