using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster for a test that stops and restarts the server (the shared one on 55432 is never
/// touched): <c>initdb</c> into a temporary folder, its own free port on 127.0.0.1, its socket in that folder, user
/// esc/esc with password authentication, fsync on. Run as the <c>postgres</c> OS user when the tests run as root
/// (PostgreSQL refuses root), the way <c>scripts/services.sh</c> does. <see cref="StopAsync"/> signals only this
/// cluster's postmaster; <see cref="StartAsync"/> starts it again on the same port with the same data. Disposing
/// kills it and removes the folder.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string Password = "esc";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"esc-pg-{Guid.NewGuid():N}"[..16]);
    private readonly string _bin = FindBin();
    private readonly ServerLog _log = new();
    private ServerProcess? _server;

    public int Port { get; } = GatewayProcess.FreePort();

    /// <summary>The application database every process of the test uses.</summary>
    public string ConnectionString => ConnectionStringFor("esc");

    public string Log => _log.ToString();

    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "esc",
        Password = Password,
        Database = database,
        MaxPoolSize = 100,
    }.ConnectionString;

    /// <summary>initdb, start, and create the database <c>esc</c> (UTF-8, C collation, as the shared test database).</summary>
    public static async Task<PrivatePostgres> CreateAsync(TimeSpan? timeout = null)
    {
        var pg = new PrivatePostgres();
        try
        {
            await pg.InitAsync();
            await pg.StartAsync(timeout);
            await using var admin = NpgsqlDataSource.Create(pg.ConnectionStringFor("postgres"));
            await using var create = admin.CreateCommand(
                "create database esc template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C.UTF-8'");
            await create.ExecuteNonQueryAsync();
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) and waits until it accepts a query.</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        string[] server =
        [
            Path.Combine(_bin, "postgres"), "-D", DataDir, "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={SocketDir}",
            "-c", "max_connections=200", "-c", "shared_buffers=32MB",
        ];
        // Own process group (setsid): an orphan guard takes the backends with the postmaster.
        _server = ServerProcess.Start("setsid", [.. AsOwner(), .. server], _dir, _log);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await AnswersAsync())
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"PostgreSQL exited with {_server.ExitCode}:\n{Log}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"PostgreSQL not up on {Port}:\n{Log}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Stops the server. <paramref name="immediate"/> (SIGQUIT) is a crash as far as the data goes: backends quit
    /// without a checkpoint and the next start replays the WAL; otherwise a fast shutdown (SIGINT). Either way every
    /// client connection drops.
    /// </summary>
    public async Task StopAsync(bool immediate = true)
    {
        if (_server is { } server)
        {
            _server = null;
            await server.StopAsync(immediate ? "QUIT" : "INT", TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>SIGKILL of the postmaster and all its backends: clients' sockets break, new connections are refused.</summary>
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
        catch (UnauthorizedAccessException)
        {
        }
        return ValueTask.CompletedTask;
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string SocketDir => Path.Combine(_dir, "run");

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a PostgreSQL binary as the <c>postgres</c> OS user when we are root (it refuses to run as root).</summary>
    private static string[] AsOwner() => IsRoot ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : [];

    private async Task InitAsync()
    {
        Directory.CreateDirectory(DataDir);
        Directory.CreateDirectory(SocketDir);
        var passwordFile = Path.Combine(_dir, "pw");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:", _dir]);
        }
        await RunAsync("chmod", ["700", DataDir]);
        string[] initdb =
        [
            Path.Combine(_bin, "initdb"), "-D", DataDir, "-U", "esc", $"--pwfile={passwordFile}", "-E", "UTF8",
            "--locale=C", "--lc-ctype=C.UTF-8", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--no-instructions",
        ];
        var args = AsOwner().Concat(initdb).ToArray();
        await RunAsync(args[0], args[1..]);
        File.Delete(passwordFile);
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
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }

    private async Task<bool> AnswersAsync()
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(ConnectionStringFor("postgres")) { Pooling = false, Timeout = 2 };
            await using var conn = new NpgsqlConnection(builder.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("select 1", conn);
            await cmd.ExecuteScalarAsync();
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException)
        {
            return false;
        }
    }

    /// <summary>PostgreSQL 15's binaries (Debian's layout), else the newest version under /usr/lib/postgresql.</summary>
    private static string FindBin()
    {
        if (File.Exists("/usr/lib/postgresql/15/bin/postgres"))
        {
            return "/usr/lib/postgresql/15/bin";
        }
        var found = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres")) && File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException("PostgreSQL binaries not found (install postgresql)");
    }
}
