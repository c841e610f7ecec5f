using System.Data.Common;
using Npgsql;

namespace EventSourcedChat.EventStore;

/// <summary>
/// How the processes behave while a dependency is down (settings under <c>Resilience</c>): how long a PostgreSQL
/// connection attempt may take, how long the API fails fast after it saw PostgreSQL unreachable, and the bounds of the
/// jittered exponential backoff of every reconnect loop (projection runner, push worker, notification listener,
/// presence subscription).
/// </summary>
public sealed class ResilienceOptions
{
    /// <summary>Connect timeout of a PostgreSQL connection when the connection string sets none (Npgsql's own default is 15 s).</summary>
    public TimeSpan PostgresConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long API requests answer 503 at once, without trying PostgreSQL, after it was found unreachable.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>First delay of a reconnect loop.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay of a reconnect loop: once a dependency is back, every loop notices within this.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    public Backoff NewBackoff() => new(RetryInitialDelay, RetryMaxDelay);

    /// <summary>
    /// How long PostgreSQL lets one of the host's sessions sit idle inside an open transaction before it ends the session
    /// (<c>idle_in_transaction_session_timeout</c>). No code path of the host waits inside a transaction; a session that
    /// does is one whose connection broke on the client side without its rollback reaching the server (seen once: an
    /// Npgsql connection that could not be reset after a timed-out statement). Such a session holds its locks and the
    /// cluster's snapshot horizon, which stalls every subscription of every database on the cluster: this bounds it.
    /// </summary>
    public TimeSpan IdleInTransactionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The connection string for the host's data source: <see cref="WithConnectTimeout"/>, and
    /// <see cref="IdleInTransactionTimeout"/> sent as a session setting unless its <c>Options</c> set one.
    /// </summary>
    public string ForHost(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(WithConnectTimeout(connectionString));
        if (builder.Options?.Contains("idle_in_transaction_session_timeout", StringComparison.OrdinalIgnoreCase) != true)
        {
            var ms = Math.Max(1, (long)IdleInTransactionTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            builder.Options = $"{builder.Options} -c idle_in_transaction_session_timeout={ms}".Trim();
        }
        return builder.ConnectionString;
    }

    /// <summary>The connection string with <see cref="PostgresConnectTimeout"/> as its <c>Timeout</c> unless it sets one.</summary>
    public string WithConnectTimeout(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.ContainsKey("Timeout"))
        {
            return connectionString;
        }
        return new NpgsqlConnectionStringBuilder(connectionString)
        {
            Timeout = Math.Max(1, (int)Math.Ceiling(PostgresConnectTimeout.TotalSeconds)),
        }.ConnectionString;
    }

    /// <summary>
    /// True when <paramref name="e"/> says PostgreSQL cannot be reached or is going away (refused or timed-out connect,
    /// broken connection, shutdown, too many connections), as opposed to an error of one statement.
    /// </summary>
    public static bool IsPostgresOutage(Exception e) => e switch
    {
        // 08: connection exception; 57P: operator intervention (shutdown, crash shutdown, cannot connect now); 53: insufficient resources.
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal)
            || p.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || p.SqlState.StartsWith("53", StringComparison.Ordinal),
        NpgsqlException => true,
        _ => false,
    };
}

/// <summary>
/// Exponential backoff with jitter for a reconnect loop: the n-th delay since the last <see cref="Reset"/> is drawn
/// uniformly from [d/2, d] with d = min(max, initial × 2ⁿ), so nodes that lost a dependency together do not retry in
/// step, and no delay exceeds the bound.
/// </summary>
public sealed class Backoff(TimeSpan initial, TimeSpan max)
{
    private int _attempt;

    /// <summary>The delay before the next attempt; each call doubles the ceiling up to <see cref="Max"/>.</summary>
    public TimeSpan Next()
    {
        var ceiling = Math.Min(max.Ticks, initial.Ticks * Math.Pow(2, Math.Min(_attempt, 40)));
        _attempt++;
        return TimeSpan.FromTicks((long)(ceiling * (0.5 + (Random.Shared.NextDouble() * 0.5))));
    }

    /// <summary>After a success: the next failure starts again from <see cref="Initial"/>.</summary>
    public void Reset() => _attempt = 0;
}
