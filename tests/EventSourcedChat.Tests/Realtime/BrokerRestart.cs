using EventSourcedChat.EventStore;
using EventSourcedChat.Gateway.Realtime;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>
/// RabbitMQ killed (SIGKILL) and restarted on the same port while posts go on. A private throwaway broker, and a
/// database of its own for the host under test (API, projector with the push worker, gateway), so that the shared
/// host's push worker (which holds the push lease of the test database) is not in the way.
/// </summary>
public sealed class BrokerRestart(PostgresFixture db, ITestOutputHelper output) : RealtimeTest(db)
{
    [Fact]
    public async Task After_a_RabbitMQ_restart_delivery_resumes_on_open_connections_and_nothing_is_lost()
    {
        var rabbit = Own(await PrivateRabbitMq.CreateAsync());
        var database = Own(await ScratchDatabase.CreateAsync($"{PostgresFixture.DatabaseName}_broker"));
        var host = ExtraHost("api,gateway,projector", new()
        {
            ["ConnectionStrings:Postgres"] = database.ConnectionString,
            ["ConnectionStrings:RabbitMq"] = rabbit.ConnectionString,
            ["Redis:Prefix"] = $"esc_tests_broker:{Guid.NewGuid():N}:",
            ["RateLimits:PostsPerSecond"] = "1000",
            ["RateLimits:PostsBurst"] = "1000",
            // The gateway re-connects well after the push worker does, so the push worker sends the outage's events
            // while the node's queue does not exist yet: only the hand-over after the recovery can bring them back.
            ["Realtime:RecoveryInterval"] = "00:00:08",
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Log(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0}s {what}");
        var ada = await RegisterAsync("ada", host);
        var bob = await RegisterAsync("bob", host);
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        await JoinAsync(bob, general);
        await DirectoryAsync(general, [ada, bob], database: database.DataSource);
        var (_, start) = await PostAsync(ada, general, "before");
        var hub = await ConnectAsync(bob, host);
        await hub.InvokeAsync("Resume", start);

        await PostManyAsync(ada, general, "up", 30);
        var beforeOutage = await hub.WaitUntilAsync(e => Posted(e, general).Count >= 30, what: "the posts before the outage");
        Log("30 posts delivered; killing the broker");
        rabbit.Kill();
        await PostManyAsync(ada, general, "down", 30);
        Log("30 posts during the outage; restarting the broker");
        await rabbit.StartAsync();
        Log("broker up again");
        await PostManyAsync(ada, general, "again", 30);

        // Delivery resumes on the open connection, without a reconnect, and nothing of the outage is missing.
        var expected = new[] { "up", "down", "again" }.SelectMany(phase => Enumerable.Range(0, 30).Select(i => $"{phase} {i}")).ToList();
        var events = await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "again 29"), TimeSpan.FromSeconds(60),
            "delivery after the broker restart");
        Log("the last post arrived");
        var posts = Posted(events, general);
        Assert.Equal(expected, posts.Select(TextOf));
        AssertNoDuplicates(events);
        var stats = host.Services.GetRequiredService<HandOverStats>();
        await Eventually.Until(() => Interlocked.Read(ref stats.Recoveries) >= 1, what: "the gateway's recovery hand-over to finish");

        // A client that resumes after the restart (another device, from before the outage) gets exactly the rest.
        var device = await ConnectAsync(bob, host);
        await device.InvokeAsync("Resume", PositionOf(Posted(beforeOutage, general)[29]));
        await PostAsync(ada, general, "last");
        var resumed = await device.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "last"), TimeSpan.FromSeconds(30), "the resumed posts");
        Assert.Equal(expected.Skip(30).Append("last"), Posted(resumed, general).Select(TextOf));
        AssertNoDuplicates(resumed);
        var live = await hub.WaitUntilAsync(e => Posted(e, general).Any(p => TextOf(p) == "last"), what: "the last post on the first connection");
        Assert.Equal(expected.Append("last"), Posted(live, general).Select(TextOf));
    }

    private static async Task PostManyAsync(TestUser user, string channelId, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await PostAsync(user, channelId, $"{prefix} {i}");
        }
    }

    /// <summary>A migrated database of its own (dropped and created again by the next run, like the test database).</summary>
    private sealed class ScratchDatabase(string name, NpgsqlDataSource dataSource) : IAsyncDisposable
    {
        public string ConnectionString { get; } = PostgresFixture.WithDatabase(name);

        public NpgsqlDataSource DataSource => dataSource;

        public static async Task<ScratchDatabase> CreateAsync(string name)
        {
            await PostgresFixture.CreateDatabaseAsync(name, dropFirst: true);
            var dataSource = NpgsqlDataSource.Create(PostgresFixture.WithDatabase(name));
            await new Migrator(dataSource).ApplyAsync(TestAssemblies.Migrations);
            return new ScratchDatabase(name, dataSource);
        }

        public ValueTask DisposeAsync() => dataSource.DisposeAsync();
    }
}
