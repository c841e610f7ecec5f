namespace EventSourcedChat.Gateway.Hosting;

/// <summary>Which parts of the system this process runs: any set of <c>api</c>, <c>gateway</c>, <c>projector</c>.</summary>
public sealed record Roles(bool Api, bool Gateway, bool Projector)
{
    public static Roles From(IConfiguration configuration)
    {
        var value = configuration["Roles"];
        if (string.IsNullOrWhiteSpace(value) || value.Trim() == "all")
        {
            return new Roles(true, true, true);
        }
        var names = value.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).ToHashSet();
        var unknown = names.Except(["api", "gateway", "projector"]).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException($"Unknown role(s) {string.Join(", ", unknown)}; use api, gateway, projector or all.");
        }
        return new Roles(names.Contains("api"), names.Contains("gateway"), names.Contains("projector"));
    }

    public override string ToString() =>
        string.Join(",", new[] { Api ? "api" : null, Gateway ? "gateway" : null, Projector ? "projector" : null }.OfType<string>());
}
