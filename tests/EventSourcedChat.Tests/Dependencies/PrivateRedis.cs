using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Dependencies;

/// <summary>
/// A throwaway Redis (Debian <c>redis-server</c>) on a free loopback port, no persistence, for a test that kills it
/// and starts it again (the shared one on 56379 is never touched). Disposing kills it and removes its folder.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"esc-redis-{Guid.NewGuid():N}"[..21]);
    private Process? _redis;
    private OrphanGuard? _guard;

    public int Port { get; } = GatewayProcess.FreePort();

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<PrivateRedis> CreateAsync()
    {
        var redis = new PrivateRedis();
        Directory.CreateDirectory(redis._dir);
        await redis.StartAsync();
        return redis;
    }

    /// <summary>Starts the server (again, empty) and waits until it answers PING.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server",
            ["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", _dir, "--daemonize", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _redis = process;
        _guard = OrphanGuard.Watch(process.Id);
        await Eventually.Until(AnswersAsync, ok => ok, TimeSpan.FromSeconds(20), $"Redis on {Port}");
    }

    /// <summary>SIGKILL: clients' connections break, new ones are refused.</summary>
    public void Kill()
    {
        _guard?.Dispose();
        _guard = null;
        if (_redis is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
            process.WaitForExit(10_000);
            process.Dispose();
            _redis = null;
        }
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
            return read > 0 && buffer[0] == (byte)'+';
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
