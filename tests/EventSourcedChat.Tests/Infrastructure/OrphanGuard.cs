using System.Diagnostics;
using System.Globalization;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// Kills a process this test run started when the test process itself dies without disposing it (a test host that
/// is killed runs no exit handler): a small shell loop polls both every second and SIGKILLs the process group of the
/// guarded one (or the process alone) once the test process is gone. The owner kills the guard first on a normal
/// dispose, so the guard never outlives what it guards and never signals a reused process id.
/// </summary>
internal sealed class OrphanGuard : IDisposable
{
    private readonly Process _watcher;

    private OrphanGuard(Process watcher) => _watcher = watcher;

    public static OrphanGuard Watch(int pid)
    {
        var start = new ProcessStartInfo("sh",
        [
            "-c",
            "while kill -0 \"$1\" 2>/dev/null && kill -0 \"$2\" 2>/dev/null; do sleep 1; done; " +
            "if ! kill -0 \"$1\" 2>/dev/null; then kill -9 \"-$2\" 2>/dev/null || kill -9 \"$2\" 2>/dev/null; fi",
            "orphan-guard",
            Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            pid.ToString(CultureInfo.InvariantCulture),
        ])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return new OrphanGuard(Process.Start(start)!);
    }

    public void Dispose()
    {
        try
        {
            if (!_watcher.HasExited)
            {
                _watcher.Kill();
                _watcher.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _watcher.Dispose();
    }
}
