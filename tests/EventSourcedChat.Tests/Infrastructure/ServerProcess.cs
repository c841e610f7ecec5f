using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A server a test started as a child process (a private PostgreSQL, Redis, RabbitMQ or epmd): its output goes to a
/// <see cref="ServerLog"/>, an orphan guard takes it down if the test host dies, and one still running when the test
/// process exits is killed then. <see cref="Kill"/> and <see cref="StopAsync"/> end it and forget it.
/// </summary>
public sealed class ServerProcess
{
    private static readonly ConcurrentDictionary<ServerProcess, bool> Running = new();
    private readonly Process _process;
    private OrphanGuard? _guard;

    static ServerProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in Running.Keys)
            {
                server.TryKill();
            }
        };
    }

    private ServerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static ServerProcess Start(
        string file, IEnumerable<string> arguments, string workingDirectory, ServerLog log, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => log.Append(e.Data);
        process.ErrorDataReceived += (_, e) => log.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process);
        Running[server] = true;
        server._guard = OrphanGuard.Watch(process.Id);
        return server;
    }

    /// <summary>SIGKILL of the process and its children, waited for (bounded).</summary>
    public void Kill()
    {
        Unguard();
        TryKill();
        _process.WaitForExit(10_000);
        Forget();
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the process group the process leads (a process started with <c>setsid</c>):
    /// <c>STOP</c> freezes a server with its sockets open, <c>CONT</c> lets it go on.
    /// </summary>
    public void SignalGroup(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", signal, "--", $"-{Id.ToString(CultureInfo.InvariantCulture)}"])
        {
            UseShellExecute = false,
            RedirectStandardError = true,
        })!;
        kill.WaitForExit(10_000);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -s {signal} -{Id} failed: {kill.StandardError.ReadToEnd()}");
        }
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. <c>QUIT</c>, <c>INT</c>) and waits for the exit; SIGKILL after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(string signal, TimeSpan timeout)
    {
        Unguard();
        if (!_process.HasExited)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", signal, Id.ToString(CultureInfo.InvariantCulture)])
            {
                UseShellExecute = false,
                RedirectStandardError = true,
            })!;
            await kill.WaitForExitAsync();
            using var wait = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                TryKill();
                _process.WaitForExit(10_000);
            }
        }
        Forget();
    }

    private void Unguard()
    {
        _guard?.Dispose();
        _guard = null;
    }

    private void Forget()
    {
        Running.TryRemove(this, out _);
        _process.Dispose();
    }

    private void TryKill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }
}

/// <summary>The first 100,000 characters a test's servers wrote, for failure messages.</summary>
public sealed class ServerLog
{
    private readonly StringBuilder _text = new();

    public void Append(string? line)
    {
        lock (_text)
        {
            if (line is not null && _text.Length < 100_000)
            {
                _text.AppendLine(line);
            }
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
