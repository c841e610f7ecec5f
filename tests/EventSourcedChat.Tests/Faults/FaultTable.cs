using System.Globalization;
using System.Text;

namespace EventSourcedChat.Tests.Faults;

/// <summary>What one fault did to the load: the counts of the table, and every problem found, in words.</summary>
public sealed record FaultResult(
    string Fault,
    TimeSpan FaultAt,
    TimeSpan Restarted,
    int Acknowledged,
    int RetriedPosts,
    int Lost,
    int Duplicated,
    int OutOfOrder,
    int Deliveries,
    int Reconnects,
    long RebuildDifferences,
    TimeSpan? Recovery,
    TimeSpan RecoveryBound,
    IReadOnlyList<string> Problems,
    NotificationResult? Notifications = null)
{
    public bool Passed => Lost == 0 && Duplicated == 0 && OutOfOrder == 0 && RebuildDifferences == 0 && Problems.Count == 0
        && Recovery is { } recovery && recovery <= RecoveryBound && Notifications?.Passed != false;
}

/// <summary>The fault table, as Markdown, written to the test output and to <c>TestResults/faults.md</c>.</summary>
public static class FaultTable
{
    /// <summary>Row order of the table (the order the faults are listed in the issue).</summary>
    public static readonly string[] Order =
        ["kill -9 api", "kill -9 projector", "kill -9 gateway", "restart PostgreSQL", "restart RabbitMQ", "restart Redis",
         "kill -9 notification worker", "restart SMTP server"];

    public static string Render(IReadOnlyList<FaultResult> results, int seed)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Fault suite, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, seed {seed} (ESC_FAULT_SEED={seed} replays the fault moments)");
        text.AppendLine();
        text.AppendLine("| fault | at | back after | acknowledged | retried POSTs | lost | duplicated | out of order | deliveries checked | reconnects | rebuild diff rows | recovery | result |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results.OrderBy(r => Array.IndexOf(Order, r.Fault)))
        {
            var recovery = r.Recovery is { } t ? $"{t.TotalSeconds:0.0} s" : "none";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Fault} | {r.FaultAt.TotalSeconds:0.0} s | {r.Restarted.TotalSeconds:0.0} s | {r.Acknowledged} | {r.RetriedPosts} | {r.Lost} | {r.Duplicated} | {r.OutOfOrder} | {r.Deliveries} | {r.Reconnects} | {r.RebuildDifferences} | {recovery} | {(r.Passed ? "pass" : "FAIL")} |");
        }
        var mailed = results.Where(r => r.Notifications is not null).OrderBy(r => Array.IndexOf(Order, r.Fault)).ToList();
        if (mailed.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("| fault | mentions acknowledged | notifications expected | mails | failed SMTP attempts | lost | sent twice | copies of one mail | mailed by | result |");
            text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach (var r in mailed)
            {
                var n = r.Notifications!;
                var by = n.MailedBy is { } t ? $"{t.TotalSeconds:0.0} s" : "none";
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {r.Fault} | {n.Mentions} | {n.Expected} | {n.Mails} | {n.FailedAttempts} | {n.Lost} | {n.SentTwice} | {n.Copies} | {by} | {(n.Passed ? "pass" : "FAIL")} |");
            }
        }
        var problems = results.Where(r => r.Problems.Count > 0).ToList();
        if (problems.Count > 0)
        {
            text.AppendLine();
            foreach (var r in problems)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{r.Fault}:");
                foreach (var p in r.Problems.Take(20))
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"- {p}");
                }
            }
        }
        return text.ToString();
    }

    /// <summary>Writes <c>TestResults/faults.md</c> at the repository root (found above the test binaries).</summary>
    public static void Write(string table)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EventSourcedChat.sln")))
        {
            dir = dir.Parent;
        }
        var results = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(results);
        File.WriteAllText(Path.Combine(results, "faults.md"), table);
    }
}
