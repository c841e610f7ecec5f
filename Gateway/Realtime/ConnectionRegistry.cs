using System.Buffers;
using EventSourcedChat.Contracts.Realtime;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// The node's local connections: by id, by channel, by user and by workspace, under one lock, which also guards each
/// connection's <see cref="ConnectionState.Channels"/>, <see cref="ConnectionState.Workspaces"/> and <see cref="ConnectionState.JoinedSeqs"/>. Changes answer the routing
/// keys that gained their first or lost their last local connection; <see cref="ChannelBindings"/> makes every change,
/// and binds or unbinds those keys in step.
/// </summary>
public sealed class ConnectionRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ConnectionState> _connections = new(StringComparer.Ordinal);
    private readonly ConnectionIndex _byChannel = new();
    private readonly ConnectionIndex _byUser = new();
    private readonly ConnectionIndex _byWorkspace = new();

    /// <summary>How many hub connections this node has (metrics).</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_gate)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>How many channels this node is bound to (tests, metrics).</summary>
    public int BoundChannelCount
    {
        get
        {
            lock (_gate)
            {
                return _byChannel.Count;
            }
        }
    }

    /// <summary>Registers a connection in its channels and workspaces; answers the keys it is the first local connection of.</summary>
    internal List<string> Add(ConnectionState state, IEnumerable<string> channels, IEnumerable<string> workspaces)
    {
        var keys = new List<string>();
        lock (_gate)
        {
            _connections[state.ConnectionId] = state;
            if (_byUser.Add(state.UserId, state))
            {
                keys.Add(RoutingKeys.User(state.UserId));
            }
            foreach (var channelId in channels)
            {
                state.Channels.Add(channelId);
                if (_byChannel.Add(channelId, state))
                {
                    keys.Add(RoutingKeys.Channel(channelId));
                }
            }
            foreach (var workspaceId in workspaces)
            {
                state.Workspaces.Add(workspaceId);
                if (_byWorkspace.Add(workspaceId, state))
                {
                    keys.Add(RoutingKeys.Workspace(workspaceId));
                }
            }
        }
        return keys;
    }

    /// <summary>Forgets a connection; answers the keys it was the last local connection of.</summary>
    internal List<string> Remove(string connectionId, string userId)
    {
        var keys = new List<string>();
        lock (_gate)
        {
            if (!_connections.Remove(connectionId, out var state))
            {
                return keys;
            }
            if (_byUser.Remove(userId, state))
            {
                keys.Add(RoutingKeys.User(userId));
            }
            keys.AddRange(state.Channels.Where(channelId => _byChannel.Remove(channelId, state)).Select(RoutingKeys.Channel));
            keys.AddRange(state.Workspaces.Where(workspaceId => _byWorkspace.Remove(workspaceId, state)).Select(RoutingKeys.Workspace));
        }
        return keys;
    }

    /// <summary>
    /// Adds a joined channel to the user's local connections that lacked it (each then holds its live events, see
    /// <see cref="ConnectionState.HoldLive"/>); true when the channel had no local connection before (bind).
    /// </summary>
    internal bool Join(string userId, string channelId, long joinedSeq, List<ConnectionState> added)
    {
        var bind = false;
        lock (_gate)
        {
            if (!_byUser.TryGet(userId, out var connections))
            {
                return false;
            }
            foreach (var c in connections.Where(c => c.Channels.Add(channelId)))
            {
                c.JoinedSeqs[channelId] = joinedSeq;
                c.HoldLive();
                bind |= _byChannel.Add(channelId, c);
                added.Add(c);
            }
        }
        return bind;
    }

    /// <summary>Removes a left channel from the user's local connections; true when none is left in it (unbind).</summary>
    internal bool Leave(string userId, string channelId, List<ConnectionState> removed)
    {
        var unbind = false;
        lock (_gate)
        {
            if (!_byUser.TryGet(userId, out var connections))
            {
                return false;
            }
            foreach (var c in connections.Where(c => c.Channels.Remove(channelId)))
            {
                c.JoinedSeqs.Remove(channelId);
                unbind |= _byChannel.Remove(channelId, c);
                removed.Add(c);
            }
        }
        return unbind;
    }

    internal ConnectionState? Find(string connectionId)
    {
        lock (_gate)
        {
            return _connections.GetValueOrDefault(connectionId);
        }
    }

    internal List<ConnectionState> All()
    {
        lock (_gate)
        {
            return [.. _connections.Values];
        }
    }

    /// <summary>The channel's connections in a pooled array (return it to <see cref="ArrayPool{T}.Shared"/>), or null.</summary>
    internal ConnectionState[]? RentChannel(string channelId, out int count)
    {
        lock (_gate)
        {
            count = 0;
            if (!_byChannel.TryGet(channelId, out var inChannel))
            {
                return null;
            }
            var targets = ArrayPool<ConnectionState>.Shared.Rent(inChannel.Count);
            inChannel.CopyTo(targets);
            count = inChannel.Count;
            return targets;
        }
    }

    /// <summary>The connections of a channel (when given) and of a user (when given), each once.</summary>
    internal HashSet<ConnectionState> ChannelAndUser(string? channelId, string? userId)
    {
        var targets = new HashSet<ConnectionState>();
        lock (_gate)
        {
            if (channelId is not null && _byChannel.TryGet(channelId, out var inChannel))
            {
                targets.UnionWith(inChannel);
            }
            if (userId is not null && _byUser.TryGet(userId, out var ofUser))
            {
                targets.UnionWith(ofUser);
            }
        }
        return targets;
    }

    /// <summary>
    /// Adds a workspace the user was added to while connected to their local connections; true when the workspace had
    /// no local connection before (bind).
    /// </summary>
    internal bool JoinWorkspace(string userId, string workspaceId)
    {
        var bind = false;
        lock (_gate)
        {
            if (!_byUser.TryGet(userId, out var connections))
            {
                return false;
            }
            foreach (var c in connections.Where(c => c.Workspaces.Add(workspaceId)))
            {
                bind |= _byWorkspace.Add(workspaceId, c);
            }
        }
        return bind;
    }

    /// <summary>Removes a workspace the user was removed from (or left) from their local connections; true when none is left in it (unbind).</summary>
    internal bool LeaveWorkspace(string userId, string workspaceId)
    {
        var unbind = false;
        lock (_gate)
        {
            if (!_byUser.TryGet(userId, out var connections))
            {
                return false;
            }
            foreach (var c in connections.Where(c => c.Workspaces.Remove(workspaceId)))
            {
                unbind |= _byWorkspace.Remove(workspaceId, c);
            }
        }
        return unbind;
    }

    /// <summary>The connections in any of the workspaces and the user's own, each once.</summary>
    internal HashSet<ConnectionState> WorkspacesAndUser(IReadOnlyList<string> workspaceIds, string? userId)
    {
        var targets = new HashSet<ConnectionState>();
        lock (_gate)
        {
            foreach (var workspaceId in workspaceIds)
            {
                if (_byWorkspace.TryGet(workspaceId, out var inWorkspace))
                {
                    targets.UnionWith(inWorkspace);
                }
            }
            if (userId is not null && _byUser.TryGet(userId, out var ofUser))
            {
                targets.UnionWith(ofUser);
            }
        }
        return targets;
    }

    /// <summary>Whether the connection receives the channel now.</summary>
    internal bool Receives(ConnectionState state, string channelId)
    {
        lock (_gate)
        {
            return state.Channels.Contains(channelId);
        }
    }

    /// <summary>Adds the channels joined while connected (which the directory may not have yet) with their join seqs.</summary>
    internal void AddJoinedChannels(ConnectionState state, Dictionary<string, long> channels)
    {
        lock (_gate)
        {
            foreach (var (channelId, joinedSeq) in state.JoinedSeqs)
            {
                channels.TryAdd(channelId, joinedSeq);
            }
        }
    }
}
