using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The real Gateway host, in process, on the test database and the real Redis and RabbitMQ. Its warnings and errors go
/// to <see cref="HostLogSink"/> (labelled "host #N (roles)"), so a failing test's output shows them.
/// </summary>
public sealed class ChatHost(PostgresFixture db, Dictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    private static int _count;

    /// <summary>
    /// The suite registers, creates workspaces and channels and reads audit logs from 127.0.0.1 far faster than people
    /// do (hundreds in a few minutes): every host of the suite starts with these limits, and a test of a limit sets its
    /// own. Posting keeps the host's defaults unless a test sets them.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> SuiteRateLimits { get; } = new Dictionary<string, string?>
    {
        ["RateLimits:RegistrationsPerHour"] = "1000000",
        ["RateLimits:RegistrationsBurst"] = "1000000",
        ["RateLimits:WorkspacesPerHour"] = "1000000",
        ["RateLimits:WorkspacesBurst"] = "1000000",
        ["RateLimits:ChannelsPerHour"] = "1000000",
        ["RateLimits:ChannelsBurst"] = "1000000",
        ["RateLimits:AuditReadsPerHour"] = "1000000",
        ["RateLimits:AuditReadsBurst"] = "1000000",
    };

    /// <summary>
    /// Notification digests for people who are away are due 3 s after a post in the suite (not 10 minutes), looked for
    /// every 200 ms: every host gets the same, since whichever holds the worker's lease decides. A test that reads
    /// before the delay has those 3 s.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> SuiteNotifications { get; } = new Dictionary<string, string?>
    {
        ["Notifications:DigestSeconds"] = "3",
        ["Notifications:PollMilliseconds"] = "200",
    };

    /// <summary>This host in log entries: "host #N (Roles)", N counting the hosts of the test process.</summary>
    public string Label { get; } =
        $"host #{Interlocked.Increment(ref _count)} ({(settings?.TryGetValue("Roles", out var roles) == true ? roles : null) ?? "all"})";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Postgres", db.ConnectionString);
        // RabbitMQ is shared by parallel test runs: each test database gets its own exchange (queues are per node).
        builder.UseSetting("Realtime:Exchange", $"chat.events.{PostgresFixture.DatabaseName}");
        // Redis too: each test database gets its own rate-limit buckets.
        builder.UseSetting("RateLimits:Prefix", $"esc:{PostgresFixture.DatabaseName}:ratelimit:");
        // The embedded object store's files: one folder per test database, outside the repository.
        builder.UseSetting("Files:Local:Root", Path.Combine(Path.GetTempPath(), $"esc-files-{PostgresFixture.DatabaseName}"));
        foreach (var (key, value) in SuiteRateLimits.Concat(SuiteNotifications))
        {
            builder.UseSetting(key, value);
        }
        foreach (var (key, value) in settings ?? [])
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging =>
        {
            logging.AddProvider(new HostLogProvider(Label));
            // A rule for this provider alone, so the host's configured levels cannot hide what the provider records.
            logging.AddFilter<HostLogProvider>(null, HostLogProvider.MinimumLevel);
        });
    }
}
