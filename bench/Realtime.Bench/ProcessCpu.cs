using System.Globalization;

namespace EventSourcedChat.RealtimeBench;

/// <summary>
/// CPU time (user + system, from <c>/proc</c>) of the processes on the path of a post: the host, this bench, PostgreSQL
/// (every <c>postgres</c> process plus the reaped children counted in their parent, so backends that came and went
/// are in it) and RabbitMQ (<c>beam.smp</c>). PostgreSQL and RabbitMQ are the shared services: their figures include
/// whatever else used them at the time. <see cref="HostJit"/> is the part of the host's time spent by the runtime's
/// background compiler thread (tiered compilation: methods compiled again, optimized, once they are called often), which
/// a host that has not run long enough still spends: it is warm-up, not the cost of the posts.
/// </summary>
internal sealed record ProcessCpu(double Host, double Bench, double Postgres, double RabbitMq, double HostJit = 0)
{
    /// <summary>The name the runtime gives its tiered compilation thread, as <c>/proc</c> shows it (15 characters).</summary>
    public const string JitThread = ".NET Tiered Com";

    /// <summary>At a reading: the CPU seconds of each of the host's compiler threads, by thread id (empty in a difference).</summary>
    public IReadOnlyDictionary<int, double> JitThreads { get; init; } = new Dictionary<int, double>();

    public static ProcessCpu Read(int hostPid)
    {
        var jit = ThreadsNamed(hostPid, JitThread);
        return new(CpuMeter.Seconds(hostPid), CpuMeter.Seconds(Environment.ProcessId), Named("postgres", children: true), Named("beam.smp", children: false),
            jit.Values.Sum()) { JitThreads = jit };
    }

    public static ProcessCpu operator -(ProcessCpu a, ProcessCpu b) =>
        new(a.Host - b.Host, a.Bench - b.Bench, a.Postgres - b.Postgres, a.RabbitMq - b.RabbitMq,
            Grown(b.JitThreads, a.JitThreads));

    /// <summary>
    /// The CPU seconds the threads of <paramref name="after"/> used since <paramref name="before"/>, thread by thread: the
    /// runtime ends its compiler thread when it has nothing to compile and starts a new one later, so the sum of the
    /// threads alive at each reading can fall (a share of -1.12 of a core was printed). A thread that ended in between
    /// is missed; the figure is never negative.
    /// </summary>
    public static double Grown(IReadOnlyDictionary<int, double> before, IReadOnlyDictionary<int, double> after) =>
        after.Sum(thread => thread.Value - before.GetValueOrDefault(thread.Key));

    /// <summary>Per process, in milliseconds of CPU per acknowledged post.</summary>
    public string PerPost(long posts) => posts <= 0 ? "-" : string.Create(CultureInfo.InvariantCulture,
        $"host {Host * 1000 / posts:F2} (JIT {HostJit * 1000 / posts:F2}), PostgreSQL {Postgres * 1000 / posts:F2}, RabbitMQ {RabbitMq * 1000 / posts:F2}, bench {Bench * 1000 / posts:F2}");

    /// <summary>Per process, as a share of one core over <paramref name="seconds"/>.</summary>
    public string Cores(double seconds) => string.Create(CultureInfo.InvariantCulture,
        $"host {Host / seconds:F2} (JIT {HostJit / seconds:F2}), PostgreSQL {Postgres / seconds:F2}, RabbitMQ {RabbitMq / seconds:F2}, bench {Bench / seconds:F2}");

    /// <summary>CPU seconds (user + system) of each thread of <paramref name="pid"/> named <paramref name="comm"/>, by thread id.</summary>
    public static IReadOnlyDictionary<int, double> ThreadsNamed(int pid, string comm)
    {
        var threads = new Dictionary<int, double>();
        try
        {
            foreach (var dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd() == comm)
                    {
                        threads[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] =
                            Ticks(File.ReadAllText(Path.Combine(dir, "stat")), children: false) / 100.0;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                    // The thread ended while it was read.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process ended.
        }
        return threads;
    }

    /// <summary>utime + stime (fields 14, 15), and with <paramref name="children"/> cutime + cstime (16, 17): ticks of 1/100 s.</summary>
    private static long Ticks(string stat, bool children)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return children ? ticks + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture) : ticks;
    }

    private static double Named(string comm, bool children)
    {
        double total = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd() != comm)
                {
                    continue;
                }
                total += Ticks(File.ReadAllText(Path.Combine(dir, "stat")), children) / 100.0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended while it was read.
            }
        }
        return total;
    }
}
