using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Presence;

public sealed class Balancer(PostgresFixture db) : PresenceTest(db)
{
    private static async Task<HttpResponseMessage> ConnectInfoAsync(HttpClient client) =>
        await client.GetAsync(new Uri("/v1/connect", UriKind.Relative));

    private static async Task<string?> UrlAsync(HttpClient client)
    {
        using var response = await ConnectInfoAsync(client);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("url").GetString();
    }

    [Fact]
    public async Task Connect_answers_the_least_loaded_live_gateway_and_skips_one_whose_registration_expired()
    {
        var prefix = Prefix + "balancer:";
        // An api-only node: it hands out gateways but is none itself.
        await using var api = new ChatHost(Db, new() { ["Roles"] = "api", ["Redis:Prefix"] = prefix });
        var ada = await RegisterAsync("ada");
        using var client = ClientFor(api, ada);

        await Problems.AssertAsync(await ConnectInfoAsync(client), HttpStatusCode.ServiceUnavailable, "unavailable");

        async Task RegisterNodeAsync(string node, int connections, TimeSpan ttl)
        {
            await Redis.StringSetAsync($"{prefix}gateway:{node}", JsonSerializer.Serialize(new { url = $"http://{node}:5080/v1/gateway", connections }), ttl);
            await Redis.SetAddAsync($"{prefix}gateways", node);
        }
        await RegisterNodeAsync("busy", 50, TimeSpan.FromMinutes(1));
        await RegisterNodeAsync("idle-but-dying", 0, TimeSpan.FromSeconds(1));
        await RegisterNodeAsync("medium", 7, TimeSpan.FromMinutes(1));

        Assert.Equal("http://idle-but-dying:5080/v1/gateway", await UrlAsync(client));
        // Its registration expires (no heartbeat): it drops out and the next least loaded is answered.
        await Eventually.Until(() => UrlAsync(client), url => url == "http://medium:5080/v1/gateway", TimeSpan.FromSeconds(10), "the dying node to drop out");
        Assert.False(await Redis.SetContainsAsync($"{prefix}gateways", "idle-but-dying"));
    }

    [Fact]
    public async Task A_gateway_node_registers_itself_with_its_load_and_answers_its_own_url()
    {
        var ada = await RegisterAsync("ada");
        using var client = ClientFor(Gateway, ada);
        await using var adaHub = await ConnectAsync(ada);

        Assert.Equal(PublicUrl + "/v1/gateway", await UrlAsync(client));
        var nodes = await Redis.SetMembersAsync($"{Prefix}gateways");
        var registration = await Eventually.Until(
            async () => (string?)await Redis.StringGetAsync($"{Prefix}gateway:{nodes.Single()}"),
            value => value is not null && JsonDocument.Parse(value).RootElement.GetProperty("connections").GetInt32() >= 1,
            what: "the node's heartbeat with its connection");
        Assert.Equal(PublicUrl + "/v1/gateway", JsonDocument.Parse(registration!).RootElement.GetProperty("url").GetString());
        Assert.True(await Redis.KeyTimeToLiveAsync($"{Prefix}gateway:{nodes.Single()}") <= TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Connect_needs_a_token()
    {
        using var response = await ConnectInfoAsync(Gateway.CreateClient());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
