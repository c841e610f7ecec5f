using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A throwaway SMTP server for a test that kills and restarts it (the shared sink of <c>scripts/services.sh</c> on
/// 55025 is never touched): the same <c>scripts/smtp-sink.py</c>, on a free port of 127.0.0.1, writing to a mail folder
/// of its own under the temporary folder (<see cref="MailDir"/>, read by the fault suite's <c>NotificationLoad</c>).
/// <see cref="Kill"/> is a SIGKILL of this process only, by its id; <see cref="StartAsync"/> starts it again on the same
/// port and folder. Disposing kills it and removes the folder.
/// </summary>
public sealed class PrivateSmtp : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"esc-smtp-{Guid.NewGuid():N}"[..18]);
    private readonly ServerLog _log = new();
    private ServerProcess? _server;

    public int Port { get; } = GatewayProcess.FreePort();

    /// <summary>Where every accepted mail is written, one <c>.eml</c> file each.</summary>
    public string MailDir => Path.Combine(_dir, "mail");

    public string Log => _log.ToString();

    public static async Task<PrivateSmtp> CreateAsync(TimeSpan? timeout = null)
    {
        var smtp = new PrivateSmtp();
        try
        {
            Directory.CreateDirectory(smtp.MailDir);
            await smtp.StartAsync(timeout);
            return smtp;
        }
        catch
        {
            await smtp.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) and waits until it greets with 220.</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var script = Path.Combine(RepositoryRoot(), "scripts", "smtp-sink.py");
        // Debian's python3-aiosmtpd is imported by the system python3 (as scripts/services.sh runs it), not a pyenv one.
        var server = ServerProcess.Start("/usr/bin/python3", [script, Port.ToString(CultureInfo.InvariantCulture), MailDir], _dir, _log);
        _server = server;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await GreetsAsync())
        {
            if (server.HasExited)
            {
                throw new InvalidOperationException($"smtp-sink.py exited with {server.ExitCode}:\n{Log}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"smtp-sink.py not up on {Port}:\n{Log}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL of this server: open SMTP sessions drop mid-way.</summary>
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

    private async Task<bool> GreetsAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
            var buffer = new byte[64];
            var read = await client.GetStream().ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("220", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "EventSourcedChat.sln")))
            {
                return d.FullName;
            }
        }
        throw new InvalidOperationException($"No EventSourcedChat.sln above {AppContext.BaseDirectory}");
    }
}
