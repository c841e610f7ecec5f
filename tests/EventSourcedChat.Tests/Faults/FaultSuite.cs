using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Faults;

/// <summary>
/// The fault suite: posting and listening clients against separate api, projector and gateway processes on private
/// PostgreSQL, Redis and RabbitMQ; one fault per test at a random moment of the load; then every acknowledged message
/// must be in history once and in order, every listener must have received its channels' messages once and in order,
/// the projections must equal a fresh rebuild, and the system must recover within the bound with nobody's help
/// (killed processes are only started again, as a supervisor would). <c>scripts/faults.sh</c> runs only these and
/// prints the table (<c>TestResults/faults.md</c>).
/// </summary>
[Trait("Category", "Faults")]
[Collection(FaultsCollection.Name)]
public sealed class FaultSuite(FaultCluster cluster, ITestOutputHelper output)
{
    /// <summary>How long a fault may keep the system from serving (from the fault to everything ready and delivering).</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(60);

    /// <summary>How long a dependency stays down before it is started again.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(2);

    [Fact]
    public Task Killing_the_api_process_under_load_loses_and_repeats_no_acknowledged_message() =>
        RunAsync("kill -9 api", () => cluster.Api.KillAndRestartAsync());

    [Fact]
    public Task Killing_the_projector_under_load_loses_and_repeats_no_acknowledged_message() =>
        RunAsync("kill -9 projector", () => cluster.Projector.KillAndRestartAsync());

    [Fact]
    public Task Killing_a_gateway_under_load_loses_and_repeats_no_acknowledged_message() =>
        RunAsync("kill -9 gateway", () => cluster.Gateways[0].KillAndRestartAsync());

    [Fact]
    public Task Restarting_PostgreSQL_under_load_loses_and_repeats_no_acknowledged_message() =>
        RunAsync("restart PostgreSQL", async () =>
        {
            // Immediate shutdown: backends quit without a checkpoint, the next start replays the WAL (a crash, as far
            // as the data goes); every process's connections drop.
            await cluster.Postgres.StopAsync(immediate: true);
            await Task.Delay(Outage);
            await cluster.Postgres.StartAsync();
            cluster.Db.Clear(); // the checks' own pooled connections died with the server
        });

    [Fact]
    public Task Restarting_RabbitMQ_under_load_loses_and_repeats_no_acknowledged_message() =>
        RunAsync("restart RabbitMQ", async () =>
        {
            cluster.RabbitMq.Kill();
            await Task.Delay(Outage);
            await cluster.RabbitMq.StartAsync();
        });

    [Fact]
    public Task Restarting_Redis_under_load_loses_and_repeats_no_acknowledged_message() =>
        RunAsync("restart Redis", async () =>
        {
            cluster.Redis.Kill();
            await Task.Delay(Outage);
            await cluster.Redis.StartAsync();
        });

    /// <summary>
    /// The process running the notification worker (and the mail worker: the <c>projector</c>) killed while people who
    /// are away are mentioned: each mention is mailed to each of them once, none lost, none in two mails.
    /// </summary>
    [Fact]
    public Task Killing_the_notification_worker_under_load_mails_each_mention_once() =>
        RunAsync("kill -9 notification worker", () => cluster.Projector.KillAndRestartAsync(), notifications: true);

    /// <summary>The cluster's own SMTP server killed and started again (same port and mail folder) while mentions are mailed.</summary>
    [Fact]
    public Task Restarting_the_SMTP_server_under_load_mails_each_mention_once() =>
        RunAsync("restart SMTP server", async () =>
        {
            cluster.Smtp.Kill();
            await Task.Delay(Outage);
            await cluster.Smtp.StartAsync();
        }, notifications: true);

    private async Task RunAsync(string fault, Func<Task> inject, bool notifications = false)
    {
        var result = await new FaultRun(cluster, output).RunAsync(fault, inject, RecoveryBound, notifications);
        var table = cluster.Record(result);
        output.WriteLine("");
        output.WriteLine(table);
        Assert.True(result.Passed, $"{fault}: {string.Join("; ", result.Problems.Take(10))} (recovery {result.Recovery?.TotalSeconds:0.0} s, bound {RecoveryBound.TotalSeconds} s)");
    }
}

/// <summary>
/// The fault suite runs alone (collections run one at a time, in the seeded order): its processes and services would
/// otherwise share the machine's cores with the rest of the suite, and its recovery times would measure that contention.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultsCollection : ICollectionFixture<FaultCluster>
{
    public const string Name = "Faults";
}
