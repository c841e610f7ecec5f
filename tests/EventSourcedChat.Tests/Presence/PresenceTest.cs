using System.Net.Http.Headers;
using EventSourcedChat.Gateway.Presence;
using EventSourcedChat.Gateway.Realtime;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace EventSourcedChat.Tests.Presence;

/// <summary>
/// Base for presence, typing and balancer tests: users are registered through the shared API host; hub connections
/// go to a second host with the <c>gateway</c> role, its own Redis prefix for this test run and a 2 s presence TTL (so
/// "a node died" is a bounded wait of seconds). Both hosts share the test database and Redis.
/// </summary>
public abstract class PresenceTest(PostgresFixture db) : ApiTest(db)
{
    /// <summary>Unique per test run: keys and pub/sub channels of other runs and engineers never mix with ours.</summary>
    protected static readonly string Prefix = $"esc_tests_presence:{Guid.NewGuid():N}:";

    protected const string PublicUrl = "http://presence-node:5080";

    private static readonly Lock Gate = new();
    private static ChatHost? _gateway;
    private static ConnectionMultiplexer? _redis;

    public static string RedisConnectionString { get; } =
        Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? "127.0.0.1:56379";

    /// <summary>The gateway node under test (roles api and gateway; the shared host runs the projector).</summary>
    protected ChatHost Gateway
    {
        get
        {
            lock (Gate)
            {
                return _gateway ??= new ChatHost(Db, new()
                {
                    ["Roles"] = "api,gateway",
                    ["Redis:Prefix"] = Prefix,
                    ["Presence:TtlSeconds"] = "2",
                    ["Presence:RefreshBelowSeconds"] = "1.5",
                    ["Presence:RefreshIntervalSeconds"] = "0.25",
                    ["Gateway:PublicUrl"] = PublicUrl,
                    ["Gateway:RegistrationTtlSeconds"] = "3",
                    ["Gateway:HeartbeatSeconds"] = "1",
                });
            }
        }
    }

    /// <summary>A direct Redis connection, to look at keys and to play other (live or dead) nodes.</summary>
    protected static IDatabase Redis
    {
        get
        {
            lock (Gate)
            {
                _redis ??= ConnectionMultiplexer.Connect(RedisConnectionString);
                return _redis.GetDatabase();
            }
        }
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _ = Gateway.Server;
    }

    protected Task<MiniHubClient> ConnectAsync(TestUser user) => MiniHubClient.ConnectAsync(Gateway, user);

    protected LocalConnections GatewayConnections => Gateway.Services.GetRequiredService<LocalConnections>();

    /// <summary>Waits until the gateway processed the close of every connection of <paramref name="user"/>.</summary>
    protected Task UntilDisconnectedAsync(TestUser user, int remaining = 0) =>
        Eventually.Until(() => GatewayConnections.ConnectionsOf(user.UserId).Count == remaining, what: $"{user.UserId} down to {remaining} connections");

    /// <summary>
    /// Puts connections in the channel's SignalR group <c>channel:{id}</c>, as the channel fan-out does for members
    /// (the contract typing relies on); adding again is harmless once fan-out does it itself.
    /// </summary>
    protected async Task JoinGroupAsync(string channelId, params MiniHubClient[] clients)
    {
        var hub = Gateway.Services.GetRequiredService<IHubContext<ChatHub, IChatClient>>();
        foreach (var client in clients)
        {
            await hub.Groups.AddToGroupAsync(client.ConnectionId, TypingService.GroupName(channelId));
        }
    }

    /// <summary>Waits until the directory projection lists these members of the channel (typing checks it).</summary>
    protected async Task UntilMembersAsync(string channelId, params TestUser[] users)
    {
        await Eventually.Until(async () =>
        {
            await using var cmd = Db.DataSource.CreateCommand(
                "select count(*) from rm_directory.channel_members where channel_id = $1 and user_id = any($2)");
            cmd.Parameters.AddWithValue(channelId);
            cmd.Parameters.AddWithValue(users.Select(u => u.UserId).ToArray());
            return (long)(await cmd.ExecuteScalarAsync())!;
        }, n => n == users.Length, what: "channel members in the directory projection");
    }

    /// <summary>An HTTP client for <paramref name="host"/> with <paramref name="user"/>'s token.</summary>
    protected static HttpClient ClientFor(ChatHost host, TestUser user)
    {
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = user.Client.DefaultRequestHeaders.Authorization;
        return client;
    }

    protected static TestUser As(ChatHost host, TestUser user) => user with { Client = ClientFor(host, user) };

    protected static AuthenticationHeaderValue? TokenOf(TestUser user) => user.Client.DefaultRequestHeaders.Authorization;
}
