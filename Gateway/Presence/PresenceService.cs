using EventSourcedChat.Gateway.Telemetry;
using System.Text.Json;
using EventSourcedChat.Contracts.Notifications;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// Presence as the hub, the REST views and the listener use it; the work is done by one part per job:
/// <see cref="PresenceStore"/> (the state in Redis: keys and Lua scripts), <see cref="LocalPresence"/> (the keys of this
/// node's users: writes on first connect, set, last disconnect and near expiry, under striped locks),
/// <see cref="PresenceVisibility"/> (whom a caller may watch, from the directory read model), <see cref="PresenceWatchers"/>
/// (who watches whom here) and <see cref="PresenceDelivery"/> (snapshots and changes to the watchers, in order).
/// Redis errors are logged and never reach the hub: presence then reads as <c>unknown</c>.
/// </summary>
public sealed class PresenceService(
    PresenceOptions options,
    PresenceStore store,
    LocalPresence localPresence,
    PresenceVisibility visibility,
    PresenceWatchers watchers,
    PresenceDelivery delivery,
    ILogger<PresenceService> logger,
    GatewayMetrics metrics) : IPresenceReader, IUserPresence
{
    public const int MaxSubscriptions = 500;

    public Task ConnectedAsync(string connectionId, string userId) => localPresence.ConnectedAsync(connectionId, userId);

    public Task DisconnectedAsync(string connectionId, string userId)
    {
        watchers.Remove(connectionId);
        return localPresence.DisconnectedAsync(connectionId, userId);
    }

    /// <summary>
    /// Replaces the connection's presence subscriptions with <paramref name="userIds"/> and sends their current state
    /// (one envelope each; <c>offline</c> when no key, <c>unknown</c> when Redis does not answer), then changes. Users the
    /// caller may not see (<see cref="PresenceVisibility"/>) are left out.
    /// </summary>
    public async Task SubscribeAsync(string connectionId, string userId, string[] userIds)
    {
        if (userIds is null || userIds.Length > MaxSubscriptions || userIds.Any(u => string.IsNullOrWhiteSpace(u) || u.Length > 200))
        {
            throw new HubException("invalid_request"); // userIds: 0..500 non-empty ids
        }
        var users = await visibility.VisibleAsync(userId, userIds.Distinct(StringComparer.Ordinal).ToArray());
        await delivery.SubscribeAsync(connectionId, users);
    }

    /// <summary><c>SetPresence("active"|"away")</c>: per user, across all their connections and nodes.</summary>
    public Task SetAsync(string connectionId, string userId, string status)
    {
        if (status is not (Envelopes.Active or Envelopes.Away))
        {
            throw new HubException("invalid_request"); // status: "active" or "away"
        }
        return localPresence.SetAsync(userId, status);
    }

    /// <summary>Current presence of each user: active, away, offline, or unknown when Redis does not answer.</summary>
    public Task<IReadOnlyDictionary<string, string>> ReadAsync(IReadOnlyCollection<string> userIds) => store.ReadAsync(userIds);

    /// <summary>
    /// The timer's work: renews this node's keys that are due (<see cref="LocalPresence.RefreshAsync"/>), then touches the
    /// keys of users watched here and not connected here, so a dead node's users go offline at most one refresh interval
    /// after their key expired (<see cref="PresenceStore.ProbeAsync"/>).
    /// </summary>
    public async Task RefreshAsync()
    {
        await localPresence.RefreshAsync();
        var watchedElsewhere = watchers.WatchedUsers().Where(u => !localPresence.Has(u)).ToList();
        if (watchedElsewhere.Count > 0)
        {
            await store.ProbeAsync(watchedElsewhere);
        }
    }

    /// <summary>After Redis came back (maybe empty): rewrite every local user's keys at the next tick.</summary>
    public void ForgetWrites() => localPresence.ForgetWrites();

    /// <summary>A <c>presence</c> pub/sub message <c>{userId, status}</c> from any node.</summary>
    public void OnPublished(string message)
    {
        try
        {
            using var json = JsonDocument.Parse(message);
            var userId = json.RootElement.GetProperty("userId").GetString();
            var status = json.RootElement.GetProperty("status").GetString();
            if (userId is not null && status is not null)
            {
                metrics.PresenceChanged();
                delivery.Changed(userId, status);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            logger.LogWarning(e, "Ignoring a malformed presence message");
        }
    }

    /// <summary>A key expired in Redis: if it is a presence key, its user is offline (their nodes stopped renewing it).</summary>
    public void OnExpired(string key)
    {
        if (options.UserOfPresenceKey(key) is not { } userId)
        {
            return;
        }
        if (localPresence.RewriteIfHeld(userId))
        {
            // Still connected here (Redis lost the key, or this node stalled past the TTL): write it again at once.
            _ = Task.Run(RefreshAsync);
        }
        delivery.Expired(userId);
    }
}
