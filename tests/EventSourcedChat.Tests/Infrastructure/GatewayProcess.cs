using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The built host (<c>EventSourcedChat.Gateway.dll</c>) as a separate OS process on a free loopback port, with its
/// settings as environment variables (<c>Realtime:Exchange</c> becomes <c>Realtime__Exchange</c>). Started and waited
/// for (<c>/health/live</c>) by <see cref="StartAsync"/>; <see cref="Kill"/> is a <c>kill -9</c>. Always killed on
/// dispose, and when the test process exits.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> Running = new();
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    private OrphanGuard? _guard;

    static GatewayProcess()
    {
        // A test run that ends without disposing (a crash, a cancelled run) leaves no host behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Running.Values)
            {
                TryKill(process);
            }
        };
    }

    private GatewayProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    /// <summary>The node's base URL, <c>http://127.0.0.1:{port}</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The hub URL as the node registers it for <c>/v1/connect</c>.</summary>
    public string HubUrl => $"{BaseUrl.ToString().TrimEnd('/')}/v1/gateway";

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process printed (stdout and stderr), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the host with <paramref name="settings"/> (configuration keys; the current environment, such as the
    /// services' connection strings, is inherited underneath) and waits until <c>/health/live</c> answers 200.
    /// <paramref name="port"/> (a free one unless given) lets a test restart a killed node where its clients look for
    /// it, as a supervisor would.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, TimeSpan? timeout = null, int? port = null)
    {
        var chosen = port ?? FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "EventSourcedChat.Gateway.dll");
        var start = new ProcessStartInfo(DotnetHost(), [dll])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{chosen}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Security__AllowInsecureDefaults"] = "true"; // the built-in credentials of scripts/services.sh
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__EventSourcedChat"] = "Information";
        foreach (var (key, value) in ChatHost.SuiteRateLimits.Concat(ChatHost.SuiteNotifications).Concat(settings))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var process = new Process { StartInfo = start };
        var node = new GatewayProcess(process, new Uri($"http://127.0.0.1:{chosen}"));
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.Start();
        Running[process.Id] = process;
        node._guard = OrphanGuard.Watch(process.Id);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await node.WaitLiveAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    /// <summary><c>kill -9</c>: SIGKILL, no shutdown code runs (no deregistration, no connection close).</summary>
    public void Kill()
    {
        TryKill(_process);
        _process.WaitForExit(10_000);
    }

    public async ValueTask DisposeAsync()
    {
        _guard?.Dispose();
        TryKill(_process);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
        }
        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
    }

    private async Task WaitLiveAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Host process exited with {_process.ExitCode} before it was live:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Host process {_process.Id} not live within {timeout}:\n{Output}");
            }
            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            if (_output.Length < 200_000)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static void TryKill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true); // SIGKILL on Unix
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
    }

    /// <summary>The dotnet executable running this test host (the SDK sets DOTNET_HOST_PATH), else <c>dotnet</c> on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path)
            ? path
            : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";

    /// <summary>A port the OS just handed out (bound and released), so parallel runs do not collide.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
