using System.Text.Json;
using EventSourcedChat.Gateway.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using StackExchange.Redis;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// The connection balancer's registry. A node with the <c>gateway</c> role writes <c>gateway:{nodeId}</c> =
/// <c>{url, connections}</c> with a TTL (15 s) every heartbeat (5 s) and adds its id to the set <c>gateways</c>; a node
/// that dies drops out when its key expires. <see cref="PickAsync"/> answers the least-loaded live node's hub URL and
/// prunes set members whose key is gone.
/// </summary>
public sealed class GatewayRegistry(
    RedisConnection redis,
    PresenceOptions options,
    LocalConnections local,
    Roles roles,
    Microsoft.AspNetCore.Hosting.Server.IServer server,
    ILogger<GatewayRegistry> logger) : BackgroundService
{
    public const string HubPath = "/v1/gateway";

    /// <summary>This node's hub URL: <c>Gateway:PublicUrl</c>, else the first server address, else http://127.0.0.1:5080.</summary>
    public string OwnUrl
    {
        get
        {
            var address = options.PublicUrl
                ?? server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? "http://127.0.0.1:5080";
            // A wildcard listen address is no address to hand out: loopback is the best guess (set Gateway:PublicUrl).
            foreach (var wildcard in new[] { "://+", "://*", "://0.0.0.0", "://[::]" })
            {
                address = address.Replace(wildcard, "://127.0.0.1", StringComparison.Ordinal);
            }
            return address.TrimEnd('/') + HubPath;
        }
    }

    /// <summary>The hub URL of the least-loaded live gateway; this node's own when none is registered or Redis does not answer and it is a gateway; else null.</summary>
    public async Task<string?> PickAsync()
    {
        if (await ListAsync() is { Count: > 0 } live)
        {
            var least = live.Min(r => r.Connections);
            var candidates = live.Where(r => r.Connections == least).ToList();
            return candidates[Random.Shared.Next(candidates.Count)].Url;
        }
        return roles.Gateway ? OwnUrl : null;
    }

    /// <summary>
    /// Every node whose registry entry has not expired, by node id (set members whose entry is gone are pruned); null
    /// when Redis does not answer.
    /// </summary>
    public async Task<IReadOnlyList<GatewayView>?> ListAsync()
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
            var gone = new List<RedisValue>();
            for (var i = 0; i < ids.Length; i++)
            {
                if (values[i].IsNull || Parse(ids[i], values[i]!) is not { } registration)
                {
                    gone.Add(ids[i]);
                }
                else
                {
                    live.Add(registration);
                }
            }
            if (gone.Count > 0)
            {
                await db.SetRemoveAsync(options.GatewaysKey, [.. gone]);
            }
            return live;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Gateway registry unreadable, Redis does not answer: {Error}", e.Message);
            return null;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!roles.Gateway)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Heartbeat);
        try
        {
            do
            {
                await RegisterAsync();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!roles.Gateway)
        {
            return;
        }
        try
        {
            // Leave at once on a clean shutdown; a crash leaves by the TTL.
            var db = (await redis.GetAsync()).GetDatabase();
            await db.KeyDeleteAsync(options.GatewayKey(options.NodeId));
            await db.SetRemoveAsync(options.GatewaysKey, options.NodeId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning("Gateway deregistration failed: {Error}", e.Message);
        }
    }

    private async Task RegisterAsync()
    {
        try
        {
            var db = (await redis.GetAsync()).GetDatabase();
            var value = JsonSerializer.Serialize(new { url = OwnUrl, connections = local.Count });
            await db.StringSetAsync(options.GatewayKey(options.NodeId), value, options.RegistrationTtl);
            await db.SetAddAsync(options.GatewaysKey, options.NodeId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Gateway heartbeat failed, Redis does not answer: {Error}", e.Message);
        }
    }

    private static GatewayView? Parse(string nodeId, string value)
    {
        try
        {
            using var json = JsonDocument.Parse(value);
            var url = json.RootElement.GetProperty("url").GetString();
            return url is null ? null : new GatewayView(nodeId, url, json.RootElement.GetProperty("connections").GetInt32());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>A live gateway node as its registry entry shows it.</summary>
public sealed record GatewayView(string NodeId, string Url, int Connections);
