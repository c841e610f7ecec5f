using System.Globalization;

namespace EventSourcedChat.Bench;

/// <summary>
/// Command line: <c>[--quick] [--duration=S] [--warmup=S] [--repeats=N] [--events=N] [--only=append|catchup]
/// [--no-reset-on-close] [--batch=1,10,100] [--streams=1,1000] [--writers=1,8,32] [--experiment=...]</c>.
/// The lists narrow the append matrix. The last two are what-ifs, not the application's configuration:
/// <c>--no-reset-on-close</c> makes the pool skip Npgsql's DISCARD ALL when a connection is reused;
/// <c>--experiment</c> rewrites es_append in the bench database (see <see cref="Bench.Experiments"/>).
/// </summary>
public sealed record BenchSettings(
    bool Quick, TimeSpan Duration, TimeSpan Warmup, int Repeats, int CatchUpEvents, bool RunAppend, bool RunCatchUp,
    bool NoResetOnClose, IReadOnlyList<string> Experiments)
{
    public const string DefaultConnectionString = "Host=127.0.0.1;Port=55432;Username=esc;Password=esc;Database=esc";
    public const string DatabaseName = "esc_bench";

    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 10, 100];
    public IReadOnlyList<int> StreamCounts { get; init; } = [1, 1_000];
    public IReadOnlyList<int> WriterCounts { get; init; } = [1, 8, 32];

    /// <summary>Largest writer count plus the notifier, the subscription and some slack.</summary>
    public const int PoolSize = 64;

    /// <summary>Events per read while catching up (the store's default, and the baseline's page size).</summary>
    public const int ReadBatchSize = 1_000;

    public static BenchSettings Parse(IReadOnlyList<string> args)
    {
        var quick = args.Contains("--quick");
        var duration = TimeSpan.FromSeconds(quick ? 1 : 2);
        var warmup = TimeSpan.FromSeconds(quick ? 0.25 : 0.3);
        var repeats = quick ? 1 : 3;
        var events = quick ? 50_000 : 200_000;
        var runAppend = true;
        var runCatchUp = true;
        var noResetOnClose = false;
        int[]? batches = null, streams = null, writers = null;
        string[] experiments = [];
        foreach (var arg in args)
        {
            var (name, value) = arg.Split('=', 2) is [var n, var v] ? (n, v) : (arg, "");
            switch (name)
            {
                case "--quick":
                    break;
                case "--duration":
                    duration = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));
                    break;
                case "--warmup":
                    warmup = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));
                    break;
                case "--repeats":
                    repeats = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--events":
                    events = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--only" when value == "append":
                    runCatchUp = false;
                    break;
                case "--only" when value == "catchup":
                    runAppend = false;
                    break;
                case "--no-reset-on-close":
                    noResetOnClose = true;
                    break;
                case "--batch":
                    batches = Ints(value);
                    break;
                case "--streams":
                    streams = Ints(value);
                    break;
                case "--writers":
                    writers = Ints(value);
                    break;
                case "--experiment":
                    experiments = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                default:
                    throw new ArgumentException(
                        $"Unknown argument '{arg}'. Usage: [--quick] [--duration=S] [--warmup=S] [--repeats=N] [--events=N] [--only=append|catchup] [--no-reset-on-close] [--batch=1,10,100] [--streams=1,1000] [--writers=1,8,32] [--experiment=no-notify,lock-first,set-insert]");
            }
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(events, ReadBatchSize);
        var settings = new BenchSettings(quick, duration, warmup, repeats, events, runAppend, runCatchUp, noResetOnClose, experiments);
        return settings with
        {
            BatchSizes = batches ?? settings.BatchSizes,
            StreamCounts = streams ?? settings.StreamCounts,
            WriterCounts = writers ?? settings.WriterCounts,
        };
    }

    private static int[] Ints(string list) =>
        [.. list.Split(',').Select(v => int.Parse(v, NumberStyles.AllowThousands, CultureInfo.InvariantCulture))];
}
