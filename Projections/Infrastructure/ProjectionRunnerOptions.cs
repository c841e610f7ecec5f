namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>Which projections this node's runner may own (<c>Projections:Run</c>, comma-separated names; empty: all).</summary>
public sealed record ProjectionRunnerOptions(IReadOnlySet<string> Only)
{
    public static ProjectionRunnerOptions All { get; } = new(new HashSet<string>());

    public static ProjectionRunnerOptions Parse(string? names) => new(
        (names ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).ToHashSet());

    public bool Runs(string projection) => Only.Count == 0 || Only.Contains(projection);
}
