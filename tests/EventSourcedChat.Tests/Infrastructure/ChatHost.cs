using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>The real Gateway host, in process, on the test database and the real Redis and RabbitMQ.</summary>
public sealed class ChatHost(PostgresFixture db, Dictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Postgres", db.ConnectionString);
        // RabbitMQ is shared by parallel test runs: each test database gets its own exchange (queues are per node).
        builder.UseSetting("Realtime:Exchange", $"chat.events.{PostgresFixture.DatabaseName}");
        foreach (var (key, value) in settings ?? [])
        {
            builder.UseSetting(key, value);
        }
    }
}
