using EventSourcedChat.Contracts.Realtime;
using EventSourcedChat.Gateway.Presence;
using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// Keeps the node's broker bindings and SignalR groups in step with its local connections: a binding per channel with
/// at least one local member, per connected user and per workspace of a connected user (<see cref="RoutingKeys"/>), and the group <c>channel:{id}</c> of
/// each channel a connection receives (typing is sent to it). Every change of the <see cref="ConnectionRegistry"/> and
/// the binds or unbinds it calls for go through one async lock, so a bind and an unbind of the same key cannot pass
/// each other.
/// </summary>
public sealed class ChannelBindings(ConnectionRegistry registry, RealtimeBroker broker, IHubContext<ChatHub, IChatClient> hub)
{
    private readonly SemaphoreSlim _topology = new(1, 1);

    /// <summary>Hook awaited before the node binds a channel for a joiner (tests hold the binding back with it).</summary>
    internal Func<Task>? BindingForJoin { get; set; }

    /// <summary>A new connection: registered in its channels, their keys bound, their groups joined.</summary>
    internal async Task AddAsync(
        ConnectionState state, IReadOnlyCollection<string> channels, IReadOnlyCollection<string> workspaces, CancellationToken ct)
    {
        await _topology.WaitAsync(ct);
        try
        {
            foreach (var key in registry.Add(state, channels, workspaces))
            {
                await broker.BindAsync(key, ct);
            }
        }
        finally
        {
            _topology.Release();
        }
        foreach (var channelId in channels)
        {
            await hub.Groups.AddToGroupAsync(state.ConnectionId, TypingService.GroupName(channelId), ct);
        }
    }

    /// <summary>A closed connection: forgotten, and the keys it was the last local connection of unbound.</summary>
    internal async Task RemoveAsync(string connectionId, string userId)
    {
        await _topology.WaitAsync();
        try
        {
            foreach (var key in registry.Remove(connectionId, userId))
            {
                await broker.UnbindAsync(key);
            }
        }
        finally
        {
            _topology.Release();
        }
    }

    /// <summary>
    /// A local user joined a channel: the channel is added to their connections and bound before the joiner sees
    /// <c>member.joined</c>. Answers the connections it was added to, which hold their live events until the hand-over
    /// (<see cref="ResumeHandOver.AfterJoinAsync"/>) has replayed what the binding came too late for.
    /// </summary>
    internal async Task<List<ConnectionState>> JoinAsync(string userId, string channelId, long joinedSeq)
    {
        List<ConnectionState> added = [];
        await _topology.WaitAsync();
        try
        {
            if (registry.Join(userId, channelId, joinedSeq, added))
            {
                if (BindingForJoin is { } binding)
                {
                    await binding();
                }
                await broker.BindAsync(RoutingKeys.Channel(channelId));
            }
        }
        finally
        {
            _topology.Release();
        }
        foreach (var c in added)
        {
            await hub.Groups.AddToGroupAsync(c.ConnectionId, TypingService.GroupName(channelId));
        }
        return added;
    }

    /// <summary>A local user was added to a workspace: their connections receive its members' profile changes from now on.</summary>
    internal async Task JoinWorkspaceAsync(string userId, string workspaceId)
    {
        await _topology.WaitAsync();
        try
        {
            if (registry.JoinWorkspace(userId, workspaceId))
            {
                await broker.BindAsync(RoutingKeys.Workspace(workspaceId));
            }
        }
        finally
        {
            _topology.Release();
        }
    }

    /// <summary>A local user is no longer in a workspace: their connections stop receiving its members' profile changes.</summary>
    internal async Task LeaveWorkspaceAsync(string userId, string workspaceId)
    {
        await _topology.WaitAsync();
        try
        {
            if (registry.LeaveWorkspace(userId, workspaceId))
            {
                await broker.UnbindAsync(RoutingKeys.Workspace(workspaceId));
            }
        }
        finally
        {
            _topology.Release();
        }
    }

    /// <summary>A local user left a channel: it is removed from their connections at once (unbound after the last).</summary>
    internal async Task LeaveAsync(string userId, string channelId)
    {
        List<ConnectionState> removed = [];
        await _topology.WaitAsync();
        try
        {
            if (registry.Leave(userId, channelId, removed))
            {
                await broker.UnbindAsync(RoutingKeys.Channel(channelId));
            }
        }
        finally
        {
            _topology.Release();
        }
        foreach (var c in removed)
        {
            await hub.Groups.RemoveFromGroupAsync(c.ConnectionId, TypingService.GroupName(channelId));
        }
    }
}
