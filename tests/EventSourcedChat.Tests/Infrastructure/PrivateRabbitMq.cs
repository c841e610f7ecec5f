using System.Net.Sockets;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A throwaway RabbitMQ node for a test that kills and restarts the broker (the shared one on 55672 is never touched):
/// its own node name, AMQP, distribution and epmd ports (free ones), and every file under a temporary folder. Started
/// the way <c>scripts/services.sh</c> starts the shared node (<c>/usr/lib/rabbitmq/bin/rabbitmq-server</c> with the
/// <c>RABBITMQ_*</c> variables pointing into that folder, user esc/esc on 127.0.0.1). <see cref="Kill"/> is a SIGKILL
/// of the broker; <see cref="StartAsync"/> starts it again on the same port with the same data. Disposing kills the
/// broker and its epmd and removes the folder.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private const string RabbitBin = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"esc-rabbit-{Guid.NewGuid():N}"[..20]);
    private readonly string _node = $"esc-test-{Guid.NewGuid():N}"[..17] + "@localhost";
    private readonly int _distPort = GatewayProcess.FreePort();
    private readonly int _epmdPort = GatewayProcess.FreePort();
    private readonly ServerLog _log = new();
    private ServerProcess? _epmd;
    private ServerProcess? _broker;
    private bool _frozen;

    public int Port { get; } = GatewayProcess.FreePort();

    public string ConnectionString => $"amqp://esc:esc@127.0.0.1:{Port}/";

    public string Log => _log.ToString();

    public static async Task<PrivateRabbitMq> CreateAsync(TimeSpan? timeout = null)
    {
        var rabbit = new PrivateRabbitMq();
        try
        {
            rabbit.WriteConfig();
            await rabbit.StartAsync(timeout);
            return rabbit;
        }
        catch
        {
            await rabbit.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the broker (again) and waits until it answers the AMQP protocol header.</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        if (_epmd is null || _epmd.HasExited)
        {
            _epmd?.Kill();
            _epmd = ServerProcess.Start("epmd", ["-port", _epmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-address", "127.0.0.1"], _dir, _log);
        }
        // In a process group of its own, so that an orphan guard can take the Erlang VM with the wrapper script.
        _broker = ServerProcess.Start("setsid", [RabbitBin], _dir, _log, Environment());
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await AnswersAsync())
        {
            if (_broker.HasExited)
            {
                throw new InvalidOperationException($"RabbitMQ exited with {_broker.ExitCode}:\n{Log}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"RabbitMQ not up on {Port}:\n{Log}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL of the broker (the wrapper script, the Erlang VM and its helpers): connections drop, unconfirmed messages are lost.</summary>
    public void Kill()
    {
        _broker?.Kill();
        _broker = null;
    }

    /// <summary>SIGSTOP of the broker: connections stay open but nothing is answered or confirmed until <see cref="Unfreeze"/>.</summary>
    public void Freeze()
    {
        (_broker ?? throw new InvalidOperationException("RabbitMQ is not running")).SignalGroup("STOP");
        _frozen = true;
    }

    /// <summary>SIGCONT of a frozen broker: it reads what was sent meanwhile and answers.</summary>
    public void Unfreeze()
    {
        if (_frozen && _broker is { HasExited: false } broker)
        {
            broker.SignalGroup("CONT");
        }
        _frozen = false;
    }

    public ValueTask DisposeAsync()
    {
        Unfreeze();
        Kill();
        _epmd?.Kill();
        _epmd = null;
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    private void WriteConfig()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "home"));
        Directory.CreateDirectory(Path.Combine(_dir, "mnesia"));
        Directory.CreateDirectory(Path.Combine(_dir, "log"));
        File.WriteAllText(Path.Combine(_dir, "rabbitmq-env.conf"), "");
        File.WriteAllText(Path.Combine(_dir, "enabled_plugins"), "[].\n");
        File.WriteAllText(Path.Combine(_dir, "rabbitmq.conf"), $"""
            listeners.tcp.1 = 127.0.0.1:{Port}
            default_vhost = /
            default_user = esc
            default_pass = esc
            default_permissions.configure = .*
            default_permissions.read = .*
            default_permissions.write = .*
            log.console = true
            log.console.level = warning
            log.file = false

            """);
    }

    private Dictionary<string, string> Environment() => new()
    {
        ["HOME"] = Path.Combine(_dir, "home"),
        ["ERL_EPMD_PORT"] = _epmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
        ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_dir, "rabbitmq-env.conf"),
        ["RABBITMQ_NODENAME"] = _node,
        ["RABBITMQ_USE_LONGNAME"] = "false",
        ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_dir, "rabbitmq.conf"),
        ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(_dir, "advanced.config"),
        ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_dir, "enabled_plugins"),
        ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_dir, "mnesia"),
        ["RABBITMQ_LOG_BASE"] = Path.Combine(_dir, "log"),
        ["RABBITMQ_LOGS"] = "-",
        ["RABBITMQ_PID_FILE"] = Path.Combine(_dir, "beam.pid"),
        ["RABBITMQ_DIST_PORT"] = _distPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
    };

    /// <summary>A live broker answers the AMQP 0-9-1 protocol header with a connection.start method frame (type 1).</summary>
    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("AMQP\0\0\x9\x1"u8.ToArray(), timeout.Token);
            var buffer = new byte[1];
            return await stream.ReadAsync(buffer, timeout.Token) == 1 && buffer[0] == 1;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
