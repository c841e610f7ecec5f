using EventSourcedChat.Gateway.Telemetry;
using System.Text.Json;
using EventSourcedChat.Gateway.Hosting;
using EventSourcedChat.Gateway.Realtime;
using Microsoft.AspNetCore.SignalR;
using Npgsql;
using StackExchange.Redis;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// Typing signals: a channel member's <c>Typing(channelId)</c> is published on the Redis channel <c>typing</c>
/// (<c>{channelId, userId}</c>) at most once per 3 s per user and channel (a <c>SET NX PX</c> key, so the throttle holds
/// across nodes); every node forwards it to its local connections in the channel except the typist's. Never persisted.
/// <para>
/// Contract with the channel fan-out (Gateway/Realtime): every connection of a channel member is in the SignalR group
/// named exactly <c>channel:{channelId}</c> (<see cref="GroupName"/>); typing is sent to that group.
/// </para>
/// </summary>
public sealed class TypingService(
    NpgsqlDataSource db,
    RedisConnection redis,
    PresenceOptions options,
    LocalConnections local,
    SerialDispatch dispatch,
    IHubContext<ChatHub, IChatClient> hub,
    IConfiguration configuration,
    ILogger<TypingService> logger,
    GatewayMetrics metrics)
{
    private readonly TimeSpan _throttle = TimeSpan.FromSeconds(
        double.TryParse(configuration["Typing:ThrottleSeconds"], System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 3);

    /// <summary>The SignalR group of a channel's members' connections (maintained by the channel fan-out).</summary>
    public static string GroupName(string channelId) => "channel:" + channelId;

    public async Task TypingAsync(string userId, string channelId)
    {
        if (string.IsNullOrWhiteSpace(channelId) || channelId.Length > 200)
        {
            throw new HubException("invalid_request");
        }
        bool member;
        try
        {
            await using var cmd = db.CreateCommand(
                "select exists (select 1 from rm_directory.channel_members where channel_id = $1 and user_id = $2)");
            cmd.Parameters.AddWithValue(channelId);
            cmd.Parameters.AddWithValue(userId);
            member = (bool)(await cmd.ExecuteScalarAsync())!;
        }
        catch (NpgsqlException e)
        {
            logger.LogWarning("Typing dropped, PostgreSQL does not answer: {Error}", e.Message);
            return;
        }
        if (!member)
        {
            // As in REST: a channel the caller is not in reads as one that does not exist.
            throw new HubException("not_found");
        }
        try
        {
            var multiplexer = await redis.GetAsync();
            if (!await multiplexer.GetDatabase().StringSetAsync(options.TypingThrottleKey(channelId, userId), "1", _throttle, When.NotExists))
            {
                return; // throttled: one signal per user and channel per 3 s, whichever node it came through
            }
            await multiplexer.GetSubscriber().PublishAsync(RedisChannel.Literal(options.TypingChannel), JsonSerializer.Serialize(new { channelId, userId }));
            metrics.Typed();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Typing dropped, Redis does not answer: {Error}", e.Message);
        }
    }

    /// <summary>A <c>typing</c> pub/sub message from any node: to this node's connections in the channel but the typist's.</summary>
    public void OnPublished(string message)
    {
        string? channelId, userId;
        try
        {
            using var json = JsonDocument.Parse(message);
            channelId = json.RootElement.GetProperty("channelId").GetString();
            userId = json.RootElement.GetProperty("userId").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            logger.LogWarning(e, "Ignoring a malformed typing message");
            return;
        }
        if (channelId is null || userId is null)
        {
            return;
        }
        dispatch.Enqueue(() => hub.Clients.GroupExcept(GroupName(channelId), local.ConnectionsOf(userId)).Event(Envelopes.Typing(channelId, userId)));
    }
}
