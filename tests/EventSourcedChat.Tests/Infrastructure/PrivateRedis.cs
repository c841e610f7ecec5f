using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A throwaway <c>redis-server</c> for a test that kills and restarts Redis (the shared one on 56379 is never touched):
/// its own free port on 127.0.0.1, its working folder under the temporary folder, no persistence (as the shared one:
/// presence, typing and the gateway registry are cache and pub/sub). <see cref="Kill"/> is a SIGKILL of this server
/// only; <see cref="StartAsync"/> starts it again, empty, on the same port. Disposing kills it and removes the folder.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"esc-redis-{Guid.NewGuid():N}"[..19]);
    private readonly ServerLog _log = new();
    private ServerProcess? _server;

    public int Port { get; } = GatewayProcess.FreePort();

    public string ConnectionString => $"127.0.0.1:{Port}";

    public string Log => _log.ToString();

    public static async Task<PrivateRedis> CreateAsync(TimeSpan? timeout = null)
    {
        var redis = new PrivateRedis();
        try
        {
            Directory.CreateDirectory(redis._dir);
            await redis.StartAsync(timeout);
            return redis;
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) and waits until it answers PING.</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var server = ServerProcess.Start("setsid",
        [
            "redis-server", "--bind", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--protected-mode", "yes", "--daemonize", "no", "--dir", _dir, "--save", "", "--appendonly", "no",
            "--logfile", "",
        ], _dir, _log);
        _server = server;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await AnswersAsync())
        {
            if (server.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {server.ExitCode}:\n{Log}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"redis-server not up on {Port}:\n{Log}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL of this server: every connection drops and every key is gone.</summary>
    public void Kill()
    {
        _server?.Kill();
        _server = null;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[7];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
