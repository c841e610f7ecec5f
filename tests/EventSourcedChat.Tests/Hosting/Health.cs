using System.Net;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Hosting;

[Collection(PostgresCollection.Name)]
public sealed class Health(PostgresFixture db) : IAsyncLifetime
{
    private readonly ChatHost _host = new(db);
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = _host.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Live_answers_200()
    {
        var response = await _client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_answers_200_when_postgres_redis_and_rabbitmq_answer()
    {
        // A node may report not ready for a moment while its first connections open; it must become ready.
        var (status, text) = await Eventually.Until(
            async () =>
            {
                var answer = await _client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                return (answer.StatusCode, await answer.Content.ReadAsStringAsync());
            },
            r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "readiness");
        var body = JsonDocument.Parse(text).RootElement;

        Assert.Equal(HttpStatusCode.OK, status);
        foreach (var dependency in new[] { "postgres", "redis", "rabbitmq" })
        {
            Assert.Equal("healthy", body.GetProperty("dependencies").GetProperty(dependency).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Ready_names_the_dependency_that_does_not_answer()
    {
        await using var host = new ChatHost(db, new() { ["ConnectionStrings:Redis"] = "127.0.0.1:1" });
        var response = await host.CreateClient().GetAsync(new Uri("/health/ready", UriKind.Relative));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("unhealthy", body.GetProperty("dependencies").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("healthy", body.GetProperty("dependencies").GetProperty("postgres").GetProperty("status").GetString());
    }
}
