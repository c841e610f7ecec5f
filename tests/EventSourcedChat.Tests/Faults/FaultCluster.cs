using System.Globalization;
using System.Net;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Faults;

/// <summary>
/// A whole deployment of separate OS processes on private services, for the fault suite: a private PostgreSQL
/// cluster, Redis and RabbitMQ (so restarting them touches no other test), one <c>api</c> process, one
/// <c>projector</c> process and two <c>gateway</c> processes. Each process is supervised: a killed one is started
/// again, on the same port and with the same settings, as systemd would; nothing else is done to it.
/// </summary>
public sealed class FaultCluster : IAsyncLifetime
{
    private readonly List<FaultResult> _results = [];
    private readonly Lock _gate = new();

    public PrivatePostgres Postgres { get; private set; } = null!;

    public PrivateRedis Redis { get; private set; } = null!;

    public PrivateRabbitMq RabbitMq { get; private set; } = null!;

    /// <summary>The cluster's own SMTP server (never the shared sink of <c>scripts/services.sh</c>), restarted by its fault.</summary>
    public PrivateSmtp Smtp { get; private set; } = null!;

    public SupervisedProcess Api { get; private set; } = null!;

    public SupervisedProcess Projector { get; private set; } = null!;

    public IReadOnlyList<SupervisedProcess> Gateways { get; private set; } = [];

    public IEnumerable<SupervisedProcess> Processes => [Api, Projector, .. Gateways];

    /// <summary>The private cluster's application database, for the checks (cleared after a PostgreSQL restart).</summary>
    public NpgsqlDataSource Db { get; private set; } = null!;

    /// <summary>The seed of the fault moments (<c>ESC_FAULT_SEED</c> to replay a run), printed with the table.</summary>
    public int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("ESC_FAULT_SEED"), CultureInfo.InvariantCulture, out var seed)
        ? seed
        : Random.Shared.Next(1, 1_000_000);

    public async Task InitializeAsync()
    {
        var pg = PrivatePostgres.CreateAsync();
        var redis = PrivateRedis.CreateAsync();
        var rabbit = PrivateRabbitMq.CreateAsync();
        var smtp = PrivateSmtp.CreateAsync();
        try
        {
            await Task.WhenAll(pg, redis, rabbit, smtp);
        }
        finally
        {
            Postgres = pg.IsCompletedSuccessfully ? pg.Result : null!;
            Redis = redis.IsCompletedSuccessfully ? redis.Result : null!;
            RabbitMq = rabbit.IsCompletedSuccessfully ? rabbit.Result : null!;
            Smtp = smtp.IsCompletedSuccessfully ? smtp.Result : null!;
        }
        Db = NpgsqlDataSource.Create(Postgres.ConnectionString);
        var common = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = Postgres.ConnectionString,
            ["ConnectionStrings:Redis"] = Redis.ConnectionString,
            ["ConnectionStrings:RabbitMq"] = RabbitMq.ConnectionString,
            ["RateLimits:PostsPerSecond"] = "1000",
            ["RateLimits:PostsBurst"] = "1000",
            // Short presence and registration lifetimes, so a dead node's traces go within seconds.
            ["Presence:TtlSeconds"] = "6",
            ["Presence:RefreshBelowSeconds"] = "4",
            ["Presence:RefreshIntervalSeconds"] = "1",
            ["Gateway:RegistrationTtlSeconds"] = "6",
            ["Gateway:HeartbeatSeconds"] = "1",
            // Mail goes to the cluster's SMTP server; a mail claimed by a killed worker is claimed again after 10 s (not
            // 60), and retries after an SMTP outage wait at most 2 s, so the checks' bounded waits see them.
            ["Mail:Smtp:Host"] = "127.0.0.1",
            ["Mail:Smtp:Port"] = Smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Mail:LeaseSeconds"] = "10",
            ["Mail:RetryMaxSeconds"] = "2",
        };
        Api = new SupervisedProcess("api", With(common, "api"));
        Projector = new SupervisedProcess("projector", With(common, "projector"));
        Gateways = [new SupervisedProcess("gateway-1", With(common, "gateway")), new SupervisedProcess("gateway-2", With(common, "gateway"))];
        // The api node migrates first (every node would, under an advisory lock; one at a time is quicker on 2 cores).
        await Api.StartAsync();
        await Task.WhenAll(Processes.Where(p => p != Api).Select(p => p.StartAsync()));
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> common, string roles) =>
        new(common) { ["Roles"] = roles };

    /// <summary>Records a fault's row and rewrites the table (test output and <c>TestResults/faults.md</c>).</summary>
    public string Record(FaultResult result)
    {
        lock (_gate)
        {
            _results.RemoveAll(r => r.Fault == result.Fault);
            _results.Add(result);
            var table = FaultTable.Render([.. _results], Seed);
            FaultTable.Write(table);
            return table;
        }
    }

    public async Task DisposeAsync()
    {
        var errors = new List<Exception>();
        foreach (var process in Processes.Where(p => p is not null).Reverse())
        {
            await Collect(errors, () => process.DisposeAsync().AsTask());
        }
        if (Db is not null)
        {
            await Collect(errors, () => Db.DisposeAsync().AsTask());
        }
        foreach (var service in new IAsyncDisposable?[] { Smtp, RabbitMq, Redis, Postgres })
        {
            if (service is not null)
            {
                await Collect(errors, () => service.DisposeAsync().AsTask());
            }
        }
        if (errors.Count > 0)
        {
            throw new AggregateException("stopping the fault cluster failed", errors);
        }
    }

    private static async Task Collect(List<Exception> errors, Func<Task> action)
    {
        try
        {
            await action();
        }
#pragma warning disable CA1031 // collected and rethrown by the caller
        catch (Exception e)
#pragma warning restore CA1031
        {
            errors.Add(e);
        }
    }
}

/// <summary>One role's process, restarted on the same port (and settings) after it is killed.</summary>
public sealed class SupervisedProcess(string name, IReadOnlyDictionary<string, string?> settings) : IAsyncDisposable
{
    private readonly int _port = GatewayProcess.FreePort();
    private GatewayProcess? _current;
    private string _previousOutput = "";

    public string Name { get; } = name;

    public Uri BaseUrl => new($"http://127.0.0.1:{_port}");

    public string HubUrl => $"http://127.0.0.1:{_port}/v1/gateway";

    public int Restarts { get; private set; }

    /// <summary>What the current process printed, after what the killed one printed (for failure messages).</summary>
    public string Output => _previousOutput + (_current?.Output ?? "");

    /// <summary>How much has been printed so far (a mark for <see cref="OutputSince"/>).</summary>
    public int OutputLength => Output.Length;

    /// <summary>The lines printed since <paramref name="mark"/>.</summary>
    public IReadOnlyList<string> OutputSince(int mark)
    {
        var output = Output;
        return output[Math.Min(mark, output.Length)..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public async Task StartAsync() => _current = await GatewayProcess.StartAsync(settings, TimeSpan.FromSeconds(120), _port);

    /// <summary><c>kill -9</c>, then started again by the "supervisor" (this method), waiting until it is live.</summary>
    public async Task KillAndRestartAsync()
    {
        if (_current is { } current)
        {
            current.Kill();
            _previousOutput += $"--- {Name} pid {current.Pid} killed (SIGKILL) ---\n{current.Output}";
            await current.DisposeAsync();
            _current = null;
        }
        Restarts++;
        await StartAsync();
    }

    /// <summary>True when <c>/health/ready</c> answers 200 (every dependency answers).</summary>
    public async Task<bool> ReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_current is { } current)
        {
            await current.DisposeAsync();
            _current = null;
        }
    }
}
