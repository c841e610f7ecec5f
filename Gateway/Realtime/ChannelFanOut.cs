using System.Buffers;
using System.Diagnostics;
using EventSourcedChat.EventStore.Telemetry;
using EventSourcedChat.Gateway.Presence;
using EventSourcedChat.Contracts.Realtime;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// The consumer of the node's queue: fans each received event out to the local connections of its channel (and of the
/// user concerned), in queue order, and applies membership changes to the local subscriptions around it. A broker
/// connection loss and its recovery are handed to <see cref="ResumeHandOver"/>.
/// </summary>
/// <remarks>
/// Channel events go through each connection's own ordered delivery (<see cref="ConnectionState"/>), not through
/// SignalR groups, because the resume hand-over needs per-connection buffering and de-duplication.
/// </remarks>
public sealed class ChannelFanOut(
    ConnectionRegistry registry, ChannelBindings bindings, ResumeHandOver handOver, PresenceOptions node, ChatHubLifetimeManager lifetime)
{
    /// <summary>
    /// The log position of the last <c>user.updated</c> fanned out: the push worker sends one copy per routing key (the
    /// user and each workspace), one after the other, and a node bound to several of them gets each copy.
    /// </summary>
    private long _lastProfileChange = -1;

    /// <summary>A message from the node's queue (called one at a time, in queue order).</summary>
    internal async Task OnMessageAsync(PushMessage message)
    {
        if (message.Type == RealtimeTypes.WorkspaceMemberAdded)
        {
            if (message.UserId is not null && message.Data.TryGetProperty("workspaceId", out var w) && w.GetString() is { } workspaceId)
            {
                await bindings.JoinWorkspaceAsync(message.UserId, workspaceId);
            }
            return; // gateway-internal: not sent to clients
        }
        if (message.Type == RealtimeTypes.WorkspaceMemberRemoved)
        {
            if (message.UserId is not null && message.Data.TryGetProperty("workspaceId", out var w) && w.GetString() is { } workspaceId)
            {
                await bindings.LeaveWorkspaceAsync(message.UserId, workspaceId);
            }
            return; // gateway-internal: the channels went with their own member.left events
        }
        if (message.Type == RealtimeTypes.UserDeactivated)
        {
            // Gateway-internal: the user's tokens are revoked; their connections here close now (not sent to clients).
            foreach (var target in registry.ChannelAndUser(null, message.UserId))
            {
                lifetime.Find(target.ConnectionId)?.Abort();
            }
            return;
        }
        if (message.Type == RealtimeTypes.UserUpdated)
        {
            if (message.LogPosition != _lastProfileChange)
            {
                _lastProfileChange = message.LogPosition;
                var profileChange = new LiveEvent(message);
                foreach (var target in registry.WorkspacesAndUser(message.WorkspaceIds ?? [], message.UserId))
                {
                    target.OfferLive(profileChange);
                }
            }
            return;
        }
        var memberEvent = message.Type is RealtimeTypes.MemberJoined or RealtimeTypes.MemberLeft;
        List<ConnectionState> joiners = [];
        if (message.Type == RealtimeTypes.MemberJoined && message.UserId is not null && message.ChannelId is not null && message.Seq is { } joinedSeq)
        {
            // Bound before the joiner sees member.joined; what the binding came too late for is handed over from the log.
            joiners = await bindings.JoinAsync(message.UserId, message.ChannelId, joinedSeq);
        }
        // Serialized once for every local connection it goes to.
        var live = new LiveEvent(message);
        // The event's trace, when sampled: one span for this node's fan-out of the event (not one per connection: that
        // cost about 1,000 spans per post in a channel of 1,000); each socket write is measured by the delivery-latency
        // histogram instead.
        using var deliver = ChatActivity.StartFrom(ChatActivity.Deliver, ActivityKind.Consumer, message.TraceParent);
        var tally = new FanOutTally();
        if (memberEvent || !message.IsChannelEvent)
        {
            // Rare: the channel's connections and the user's (a connection can be in both: once each).
            var channelId = message.IsChannelEvent ? message.ChannelId : null;
            foreach (var target in registry.ChannelAndUser(channelId, message.UserId))
            {
                tally.Add(target, target.OfferLive(live));
            }
        }
        else if (message.ChannelId is not null)
        {
            // The common case: a copy of the channel's connections in a pooled array (no allocation per message),
            // delivered outside the registry lock so connects and disconnects are not held up by a large fan-out.
            var targets = registry.RentChannel(message.ChannelId, out var count);
            if (targets is not null)
            {
                try
                {
                    for (var i = 0; i < count; i++)
                    {
                        tally.Add(targets[i], targets[i].OfferLive(live));
                    }
                }
                finally
                {
                    ArrayPool<ConnectionState>.Shared.Return(targets, clearArray: true);
                }
            }
        }
        if (deliver is not null)
        {
            tally.Tag(deliver, live, node.NodeId, message.LogPosition);
        }
        if (message.Type == RealtimeTypes.MemberLeft && message.UserId is not null && message.ChannelId is not null)
        {
            // The leaver gets member.left, then nothing more from the channel, on every device.
            await bindings.LeaveAsync(message.UserId, message.ChannelId);
        }
        foreach (var state in joiners)
        {
            _ = handOver.AfterJoinAsync(state, live.Cursor);
        }
    }

    /// <summary>The node's broker connection is lost: see <see cref="ResumeHandOver.BrokerLost"/>.</summary>
    internal void BrokerLost() => handOver.BrokerLost();

    /// <summary>The node's broker connection recovered: see <see cref="ResumeHandOver.RecoverAsync"/>.</summary>
    internal Task RecoverAsync(CancellationToken ct) => handOver.RecoverAsync(ct);
}
