using EventSourcedChat.Gateway.Realtime;
using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// Sends presence to the local connections that watch it, all through the one ordered queue (<see cref="SerialDispatch"/>):
/// a subscription's snapshot, and each change published by any node, in the order Redis published them.
/// </summary>
public sealed class PresenceDelivery(
    PresenceWatchers watchers,
    PresenceStore store,
    SerialDispatch dispatch,
    IHubContext<ChatHub, IChatClient> hub)
{
    /// <summary>
    /// Replaces the connection's subscriptions with <paramref name="users"/> and sends their current state (one envelope
    /// each); completes once that snapshot is out, or after 10 s (a hub call is never held on a stuck queue).
    /// </summary>
    public async Task SubscribeAsync(string connectionId, string[] users)
    {
        // Registered before the state is read: a change after the read is delivered, and the snapshot of a user is
        // skipped once a change for them was delivered (the queue keeps both in one order).
        var subscription = watchers.Replace(connectionId, users);
        var statuses = await store.ReadAsync(users);
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatch.Enqueue(async () =>
        {
            try
            {
                foreach (var user in users)
                {
                    if (watchers.SnapshotWanted(connectionId, subscription, user))
                    {
                        await hub.Clients.Client(connectionId).Event(Envelopes.Presence(user, statuses[user]));
                    }
                }
            }
            finally
            {
                sent.TrySetResult();
            }
        });
        await sent.Task.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>A change published on the <c>presence</c> channel: to the user's watchers, in publication order.</summary>
    public void Changed(string userId, string status) => dispatch.Enqueue(() => SendAsync(userId, status));

    /// <summary>
    /// The user's key expired. The expired event and the presence messages come on two Redis channels, each read in order
    /// by its own loop (<see cref="PresenceListener"/>), so a user who came back at once (a touch that found the key expired
    /// recreates it and publishes active right behind the expired event) could have their active enqueued before this
    /// offline. Hence offline is sent only if the key is still gone when the ordered queue reaches it: a key that exists
    /// again was created by a script that published its status on the presence channel, delivered before or after this.
    /// </summary>
    public void Expired(string userId) => dispatch.Enqueue(async () =>
    {
        if (!watchers.IsWatched(userId) || await store.ExistsAsync(userId))
        {
            return;
        }
        await SendAsync(userId, Envelopes.Offline);
    });

    private async Task SendAsync(string userId, string status)
    {
        var connections = watchers.TakeChange(userId);
        if (connections.Count > 0)
        {
            await hub.Clients.Clients(connections).Event(Envelopes.Presence(userId, status));
        }
    }
}
