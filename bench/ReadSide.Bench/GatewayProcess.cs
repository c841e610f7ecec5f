using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EventSourcedChat.ReadSideBench;

/// <summary>The real host (Release build of the Gateway) started as a separate process, killed by PID on dispose.</summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _lastLines = new();
    private readonly Lock _gate = new();

    private GatewayProcess(Process process, Uri baseAddress)
    {
        _process = process;
        Pid = process.Id;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Pid { get; }

    /// <summary>The Release build of the Gateway in the checkout above the bench (build it first).</summary>
    public static string DefaultDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EventSourcedChat.sln")))
            {
                return Path.Combine(dir.FullName, "Gateway", "bin", "Release", "net10.0", "EventSourcedChat.Gateway.dll");
            }
        }
        throw new InvalidOperationException("EventSourcedChat.sln not found above the bench; pass --gateway-dll.");
    }

    public static GatewayProcess Start(string dll, string connectionString, int port, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        if (port == 0)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }
        var url = $"http://127.0.0.1:{port}";
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(url);
        info.Environment["ConnectionStrings__Postgres"] = connectionString;
        info.Environment["RateLimits__PostsPerSecond"] = "100000";
        info.Environment["RateLimits__PostsBurst"] = "100000";
        // A bench registers and creates from one address far faster than people do: no limit may slow it.
        foreach (var kind in new[] { "Registrations", "Workspaces", "Channels", "AuditReads" })
        {
            info.Environment[$"RateLimits__{kind}PerHour"] = "100000000";
            info.Environment[$"RateLimits__{kind}Burst"] = "100000000";
        }
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Security__AllowInsecureDefaults"] = "true"; // the built-in credentials of scripts/services.sh
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var host = new GatewayProcess(process, new Uri(url + "/"));
        process.OutputDataReceived += (_, e) => host.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => host.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits for <c>/health/live</c> to answer 200 (not ready: Redis and RabbitMQ are not needed to post).</summary>
    public async Task WaitLiveAsync(HttpClient http, TimeSpan timeout)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The gateway exited with code {_process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "health/live"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"/health/live did not answer 200 within {timeout.TotalSeconds} s:\n{Output}");
    }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lastLines);
            }
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _lastLines.Enqueue(line);
            while (_lastLines.Count > 50)
            {
                _lastLines.Dequeue();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }
}
