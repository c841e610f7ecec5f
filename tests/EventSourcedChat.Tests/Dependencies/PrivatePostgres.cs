using System.Diagnostics;
using System.Globalization;
using System.Text;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.Dependencies;

/// <summary>
/// A throwaway PostgreSQL 15 cluster for a test that takes the database away (the shared one on 55432 is never
/// touched): initdb into a temporary folder, its own free port, loopback only, trust authentication, started the way
/// <c>scripts/services.sh</c> starts the shared one (as the <c>postgres</c> OS user when the test runs as root).
/// <see cref="Kill"/> SIGKILLs the postmaster and every backend at once (a crash: the clients' sockets break, new
/// connections are refused); <see cref="StartAsync"/> starts it again on the same port with the same data (crash
/// recovery). Disposing kills it and removes the folder.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"esc-pg-{Guid.NewGuid():N}"[..18]);
    private readonly StringBuilder _log = new();
    private Process? _postgres;
    private OrphanGuard? _guard;

    public int Port { get; } = GatewayProcess.FreePort();

    public string ConnectionString =>
        $"Host=127.0.0.1;Port={Port};Username=esc;Password=esc;Database=esc;Maximum Pool Size=100";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    private static bool Root => Environment.IsPrivilegedProcess;

    private string Data => Path.Combine(_dir, "data");

    public static async Task<PrivatePostgres> CreateAsync()
    {
        var pg = new PrivatePostgres();
        try
        {
            Directory.CreateDirectory(pg._dir);
            if (Root)
            {
                await RunAsync("chown", ["postgres:", pg._dir]);
            }
            await RunAsync(Root ? "runuser" : $"{Bin}/initdb", [
                .. Root ? new[] { "-u", "postgres", "--", $"{Bin}/initdb" } : [],
                "-D", pg.Data, "-U", "esc", "--auth=trust", "-E", "UTF8", "--locale=C", "--lc-ctype=C.UTF-8",
            ]);
            await pg.StartAsync();
            await using var admin = NpgsqlDataSource.Create(pg.ConnectionString.Replace("Database=esc", "Database=postgres", StringComparison.Ordinal));
            await using var create = admin.CreateCommand("create database esc");
            await create.ExecuteNonQueryAsync();
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        string[] server = [$"{Bin}/postgres", "-D", Data, "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={_dir}", "-c", "fsync=off",
            "-c", "max_connections=200", "-c", "shared_buffers=32MB"];
        // In a process group of its own, so that a kill takes every backend and an orphan guard can take the group.
        string[] command = Root
            ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", .. server]
            : server;
        var start = new ProcessStartInfo("setsid", command)
        {
            WorkingDirectory = _dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _postgres = process;
        _guard = OrphanGuard.Watch(process.Id);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await AnswersAsync())
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"PostgreSQL exited with {process.ExitCode}:\n{Log}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"PostgreSQL not up on {Port}:\n{Log}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL of the postmaster and all its backends.</summary>
    public void Kill()
    {
        _guard?.Dispose();
        _guard = null;
        if (_postgres is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
            process.WaitForExit(10_000);
            process.Dispose();
            _postgres = null;
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return ValueTask.CompletedTask;
    }

    private async Task<bool> AnswersAsync()
    {
        try
        {
            await using var conn = new NpgsqlConnection(
                ConnectionString.Replace("Database=esc", "Database=postgres", StringComparison.Ordinal) + ";Pooling=false;Timeout=2");
            await conn.OpenAsync();
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        lock (_log)
        {
            if (line is not null && _log.Length < 100_000)
            {
                _log.AppendLine(line);
            }
        }
    }

    private static async Task RunAsync(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }
}
