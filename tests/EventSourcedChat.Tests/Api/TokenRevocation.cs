using System.Diagnostics;
using System.Net;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Revoked tokens are answered from memory on every node (<see cref="RevokedTokens"/>), kept current by a notification,
/// with a staleness bound of <see cref="RevokedTokens.TrustFor"/>.
/// </summary>
public sealed class TokenRevocation(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task A_token_logged_out_on_one_node_is_refused_by_another_node_from_memory_within_the_bound()
    {
        var ada = await RegisterAsync("ada");
        await using var otherNode = new ChatHost(Db);
        var onOther = ada.On(otherNode);
        Assert.Equal(HttpStatusCode.OK, (await onOther.SendAsync("GET", "/v1/workspaces")).StatusCode);
        var revoked = otherNode.Services.GetRequiredService<RevokedTokens>();
        await Eventually.Until(() => revoked.IsCurrent, TimeSpan.FromSeconds(10), "the other node's revoked-token set to be current");

        Assert.Equal(HttpStatusCode.NoContent, (await ada.SendAsync("POST", "/v1/auth/logout")).StatusCode);
        // From the answer (the revocation committed before it): what a client that logged out can rely on.
        var loggedOut = Stopwatch.StartNew();
        await Eventually.Until(async () => (await onOther.SendAsync("GET", "/v1/workspaces")).StatusCode,
            status => status == HttpStatusCode.Unauthorized, RevokedTokens.TrustFor * 5, "the other node to refuse the token");

        Assert.True(loggedOut.Elapsed <= RevokedTokens.TrustFor, $"refused after {loggedOut.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(revoked.IsCurrent, "answered from memory, not from a database read");
        await Problems.AssertAsync(await onOther.SendAsync("GET", "/v1/workspaces"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task A_node_started_after_a_log_out_refuses_the_token_from_its_first_request()
    {
        var ada = await RegisterAsync("ada");
        Assert.Equal(HttpStatusCode.NoContent, (await ada.SendAsync("POST", "/v1/auth/logout")).StatusCode);

        await using var laterNode = new ChatHost(Db);
        await Problems.AssertAsync(await ada.On(laterNode).SendAsync("GET", "/v1/workspaces"), HttpStatusCode.Unauthorized, "unauthenticated");
        var revoked = laterNode.Services.GetRequiredService<RevokedTokens>();
        await Eventually.Until(() => revoked.IsCurrent, TimeSpan.FromSeconds(10), "the later node's revoked-token set to be current");
        await Problems.AssertAsync(await ada.On(laterNode).SendAsync("GET", "/v1/workspaces"), HttpStatusCode.Unauthorized, "unauthenticated");
    }
}
