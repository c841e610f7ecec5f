using System.Text.Json;
using EventSourcedChat.Gateway.Hosting;
using StackExchange.Redis;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>A live gateway node as its registry entry shows it (written by <see cref="GatewayRegistry"/> every heartbeat).</summary>
public sealed record GatewayView(string NodeId, string Url, int Connections);

/// <summary>The live gateways of the deployment, read from the registry in Redis (operators' status view).</summary>
public sealed class GatewayList(RedisConnection redis, PresenceOptions options, ILogger<GatewayList> logger)
{
    /// <summary>Every node whose registry entry has not expired, by node id; null when Redis does not answer.</summary>
    public async Task<IReadOnlyList<GatewayView>?> ReadAsync()
    {
        try
        {
            var db = (await redis.GetAsync()).GetDatabase();
            var ids = (await db.SetMembersAsync(options.GatewaysKey)).Select(v => (string)v!).Order(StringComparer.Ordinal).ToArray();
            if (ids.Length == 0)
            {
                return [];
            }
            var values = await db.StringGetAsync([.. ids.Select(id => (RedisKey)options.GatewayKey(id))]);
            var live = new List<GatewayView>();
            for (var i = 0; i < ids.Length; i++)
            {
                if (!values[i].IsNull && Parse(ids[i], values[i]!) is { } view)
                {
                    live.Add(view);
                }
            }
            return live;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Gateway list unavailable, Redis does not answer: {Error}", e.Message);
            return null;
        }
    }

    private static GatewayView? Parse(string nodeId, string value)
    {
        try
        {
            using var json = JsonDocument.Parse(value);
            return new GatewayView(nodeId, json.RootElement.GetProperty("url").GetString() ?? "", json.RootElement.GetProperty("connections").GetInt32());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}
