using Npgsql;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>
/// What a production node must not run with: the built-in <c>esc</c>/<c>esc</c> credentials of scripts/services.sh and
/// docker-compose.yml, or a Data Protection key ring kept unprotected in PostgreSQL (a database dump could mint tokens).
/// Outside <c>Development</c> the host refuses to start with any of them, unless
/// <c>Security:AllowInsecureDefaults=true</c> says that this is a local test or benchmark run on those services.
/// The host checks its own connection strings; a module checks its own settings (the key ring: Commands), and the host
/// is given those checks where it registers the modules (<see cref="HostingExtensions.ModuleInsecureDefaults"/>).
/// </summary>
public static class InsecureDefaults
{
    public const string AllowSetting = "Security:AllowInsecureDefaults";
    private const string BuiltIn = "esc";

    /// <summary>
    /// Each insecure default the configuration still has, as a sentence naming the setting to change: the host's own
    /// and those the modules' <paramref name="moduleChecks"/> find (each answers null when its settings are safe).
    /// </summary>
    public static IReadOnlyList<string> Find(IConfiguration configuration, IEnumerable<Func<IConfiguration, string?>> moduleChecks)
    {
        var found = new List<string>();
        if (configuration.GetConnectionString("Postgres") is { } postgres && PostgresUsesBuiltIn(postgres))
        {
            found.Add($"ConnectionStrings:Postgres logs in with the built-in {BuiltIn}/{BuiltIn} credentials.");
        }
        if (configuration.GetConnectionString("RabbitMq") is { } rabbit && RabbitMqUsesBuiltIn(rabbit))
        {
            found.Add($"ConnectionStrings:RabbitMq logs in with the built-in {BuiltIn}/{BuiltIn} credentials.");
        }
        found.AddRange(moduleChecks.Select(check => check(configuration)).OfType<string>());
        return found;
    }

    /// <summary>
    /// Throws outside Development when <see cref="Find"/> finds anything and <see cref="AllowSetting"/> is not set;
    /// otherwise returns what was found, for the host to log as warnings once it runs.
    /// </summary>
    public static IReadOnlyList<string> Enforce(
        IConfiguration configuration, IHostEnvironment environment, IEnumerable<Func<IConfiguration, string?>> moduleChecks)
    {
        var found = Find(configuration, moduleChecks);
        if (found.Count > 0 && !environment.IsDevelopment() && !configuration.GetValue(AllowSetting, false))
        {
            throw new InvalidOperationException(
                $"Refusing to start in the '{environment.EnvironmentName}' environment: {string.Join(" ", found)} "
                + $"(Development allows them; so does {AllowSetting}=true, meant for local test and benchmark runs only.)");
        }
        return found;
    }

    private static bool PostgresUsesBuiltIn(string connectionString)
    {
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(connectionString);
            return parsed.Username == BuiltIn && parsed.Password == BuiltIn;
        }
        catch (ArgumentException)
        {
            return false; // not ours to judge here: the data source reports a malformed string
        }
    }

    private static bool RabbitMqUsesBuiltIn(string connectionString) =>
        Uri.TryCreate(connectionString, UriKind.Absolute, out var uri)
        && Uri.UnescapeDataString(uri.UserInfo) == $"{BuiltIn}:{BuiltIn}";
}

/// <summary>The insecure defaults this host started with (allowed in Development or by Security:AllowInsecureDefaults).</summary>
public sealed record InsecureDefaultsFound(IReadOnlyList<string> Items);
