using Xunit.Abstractions;

namespace EventSourcedChat.Tests.Security;

/// <summary>Cases and failures per endpoint and category, printed as the report.</summary>
internal sealed class FuzzTally
{
    private readonly SortedDictionary<string, SortedDictionary<string, (int Cases, int Failures)>> _counts = new(StringComparer.Ordinal);

    public List<string> Failures { get; } = [];
    public int Cases { get; private set; }

    public void Add(string endpoint, string category, string label, string? failure)
    {
        Cases++;
        if (!_counts.TryGetValue(endpoint, out var row))
        {
            _counts[endpoint] = row = new(StringComparer.Ordinal);
        }
        var (cases, failures) = row.GetValueOrDefault(category);
        row[category] = (cases + 1, failures + (failure is null ? 0 : 1));
        if (failure is not null)
        {
            Failures.Add($"{endpoint} [{category}: {label}]: {failure}");
        }
    }

    public void Report(ITestOutputHelper output, string title)
    {
        output.WriteLine($"{title}: {Cases} cases, {Failures.Count} failures");
        output.WriteLine("| endpoint | cases | failures | categories (cases) |");
        output.WriteLine("|---|---|---|---|");
        foreach (var (endpoint, row) in _counts)
        {
            output.WriteLine($"| `{endpoint}` | {row.Values.Sum(v => v.Cases)} | {row.Values.Sum(v => v.Failures)} | " +
                             string.Join(", ", row.Select(c => $"{c.Key} {c.Value.Cases}")) + " |");
        }
        var categories = _counts.Values.SelectMany(r => r).GroupBy(c => c.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal);
        output.WriteLine("| category | cases | failures |");
        output.WriteLine("|---|---|---|");
        foreach (var g in categories)
        {
            output.WriteLine($"| {g.Key} | {g.Sum(c => c.Value.Cases)} | {g.Sum(c => c.Value.Failures)} |");
        }
    }

    public void AssertNone() => Assert.True(Failures.Count == 0, $"{Failures.Count} of {Cases} fuzz cases failed:\n" + string.Join('\n', Failures.Take(80)));
}
