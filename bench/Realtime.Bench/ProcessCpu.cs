using System.Globalization;

namespace EventSourcedChat.RealtimeBench;

/// <summary>
/// CPU time (user + system, from <c>/proc</c>) of the processes on the path of a post: the host, this bench, PostgreSQL
/// (every <c>postgres</c> process plus the reaped children counted in their parent, so backends that came and went
/// are in it) and RabbitMQ (<c>beam.smp</c>). PostgreSQL and RabbitMQ are the shared services: their figures include
/// whatever else used them at the time.
/// </summary>
internal sealed record ProcessCpu(double Host, double Bench, double Postgres, double RabbitMq)
{
    public static ProcessCpu Read(int hostPid) => new(
        CpuMeter.Seconds(hostPid), CpuMeter.Seconds(Environment.ProcessId), Named("postgres", children: true), Named("beam.smp", children: false));

    public static ProcessCpu operator -(ProcessCpu a, ProcessCpu b) =>
        new(a.Host - b.Host, a.Bench - b.Bench, a.Postgres - b.Postgres, a.RabbitMq - b.RabbitMq);

    /// <summary>Per process, in milliseconds of CPU per acknowledged post.</summary>
    public string PerPost(long posts) => posts <= 0 ? "-" : string.Create(CultureInfo.InvariantCulture,
        $"host {Host * 1000 / posts:F2}, PostgreSQL {Postgres * 1000 / posts:F2}, RabbitMQ {RabbitMq * 1000 / posts:F2}, bench {Bench * 1000 / posts:F2}");

    /// <summary>Per process, as a share of one core over <paramref name="seconds"/>.</summary>
    public string Cores(double seconds) => string.Create(CultureInfo.InvariantCulture,
        $"host {Host / seconds:F2}, PostgreSQL {Postgres / seconds:F2}, RabbitMQ {RabbitMq / seconds:F2}, bench {Bench / seconds:F2}");

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
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // utime, stime (fields 14, 15) and cutime, cstime (16, 17): clock ticks of 1/100 s.
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                if (children)
                {
                    ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
                }
                total += ticks / 100.0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended while it was read.
            }
        }
        return total;
    }
}
