using EventSourcedChat.Commands.Infrastructure;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// Slows password guessing: after too many failed log-ins for one account, or from one client address, within a
/// window (counted from the first failure), log-ins for it are refused until the window ends, even with the right
/// password. Counted in PostgreSQL, so every API node sees the same counts. A success clears the account's count.
/// </summary>
public sealed class LoginThrottle(NpgsqlDataSource db, IConfiguration configuration, TimeProvider time)
{
    private int PerAccount => configuration.GetValue("Login:MaxFailuresPerAccount", 10);
    private int PerAddress => configuration.GetValue("Login:MaxFailuresPerAddress", 100);
    private TimeSpan Window => TimeSpan.FromSeconds(configuration.GetValue("Login:FailureWindowSeconds", 900));

    public static string AccountKey(string email) => "account:" + email.Trim().ToLowerInvariant();

    public static string AddressKey(string? address) => "address:" + (address ?? "unknown");

    /// <summary>How long until a log-in may be tried again, or null when it may be tried now.</summary>
    public async Task<TimeSpan?> BlockedForAsync(string accountKey, string addressKey, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            select key, failures, window_started_at from ws_login_failures where key = $1 or key = $2
            """, accountKey, addressKey);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var now = time.GetUtcNow();
        TimeSpan? blocked = null;
        while (await reader.ReadAsync(ct))
        {
            var limit = reader.GetString(0) == accountKey ? PerAccount : PerAddress;
            var ends = reader.GetFieldValue<DateTimeOffset>(2) + Window;
            if (reader.GetInt32(1) >= limit && ends > now && (blocked is null || ends - now > blocked))
            {
                blocked = ends - now;
            }
        }
        return blocked;
    }

    public async Task FailedAsync(string accountKey, string addressKey, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            insert into ws_login_failures as t (key, failures, window_started_at)
            select k, 1, $2 from unnest($1::text[]) k
            on conflict (key) do update set
                failures = case when t.window_started_at + $3 <= $2 then 1 else t.failures + 1 end,
                window_started_at = case when t.window_started_at + $3 <= $2 then $2 else t.window_started_at end
            """, new[] { accountKey, addressKey }, time.GetUtcNow(), Window);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task SucceededAsync(string accountKey, CancellationToken ct)
    {
        await using var cmd = db.Command("delete from ws_login_failures where key = $1", accountKey);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
