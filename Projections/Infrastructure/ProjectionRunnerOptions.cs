namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>Which projections this node's runner may own (<c>Projections:Run</c>, comma-separated names; empty: all).</summary>
public sealed record ProjectionRunnerOptions(IReadOnlySet<string> Only)
{
    /// <summary>
    /// How many runs in a row, each from the checkpoint in the database on new connections, an event must fail before
    /// its projection stops and waits for an operator (<c>Projections:AttemptsBeforeFailing</c>).
    /// </summary>
    public int AttemptsBeforeFailing { get; init; } = 3;

    public static ProjectionRunnerOptions All { get; } = new(new HashSet<string>());

    public static ProjectionRunnerOptions Parse(string? names) => new(
        (names ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).ToHashSet());

    public bool Runs(string projection) => Only.Count == 0 || Only.Contains(projection);
}
