using System.Collections.Concurrent;
using System.Globalization;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.EventStore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// The bearer tokens revoked (log-out, log out everywhere, a password change or reset), kept in memory on every node so that an authenticated request costs no
/// database read. Loaded at start from <c>ws_revoked_tokens</c> and kept current by <c>LISTEN ws_token_revoked</c> (the
/// insert into <c>ws_revoked_tokens</c> notifies at its commit, by a trigger, whoever makes it). The listening connection is probed every <see cref="ProbeInterval"/>;
/// PostgreSQL delivers every notification committed before a probe ahead of the probe's answer, so a probe that
/// returned proves the set holds every revocation committed before it was sent. The set is trusted only while the last
/// probe returned less than <see cref="TrustFor"/> ago: a revocation is refused on every node within that bound (in
/// practice within the notification's milliseconds). When the set is not trusted (before the first load, or while the
/// listener is down) each check asks the database, as before.
/// </summary>
public sealed class RevokedTokens(NpgsqlDataSource db, ResilienceOptions resilience, TimeProvider time, ILogger<RevokedTokens> log)
    : BackgroundService, ITokenRevocations
{
    public const string NotifyChannel = "ws_token_revoked";

    /// <summary>How often the listening connection is probed (and proved current).</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The staleness bound: the set answers alone only while its last probe returned less than this ago.</summary>
    public static readonly TimeSpan TrustFor = TimeSpan.FromSeconds(1);

    /// <summary>How often the whole set is read again (dropping the expired ones).</summary>
    private static readonly TimeSpan ReloadInterval = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revoked = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _echoes = new();
    private long _provenAt = long.MinValue;
    private TaskCompletionSource _probed = NewSignal();

    /// <summary>True while the in-memory set is proven current (checks are answered without a database read).</summary>
    public bool IsCurrent => Trusted;

    private bool Trusted => Volatile.Read(ref _provenAt) is var at && at != long.MinValue
        && time.GetUtcNow().UtcTicks - at < TrustFor.Ticks;

    /// <summary>True when the token was revoked: from memory while the set is proven current, else from the database.</summary>
    public async ValueTask<bool> IsRevokedAsync(Guid tokenId, CancellationToken ct)
    {
        if (Trusted)
        {
            return _revoked.ContainsKey(tokenId);
        }
        await using var cmd = db.Command("select exists (select 1 from ws_revoked_tokens where token_id = $1)", tokenId);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Revokes a token on every node: stored and notified in one statement, refused here at once, answered once this
    /// node's listener got the notification back (waited for at most <see cref="TrustFor"/>), which the other nodes'
    /// listeners get at the same moment, and one <see cref="ProbeInterval"/> more for them to apply it.
    /// </summary>
    public async Task RevokeAsync(Guid tokenId, DateTimeOffset expiresAt, CancellationToken ct)
    {
        var echo = _echoes.GetOrAdd(tokenId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            var now = time.GetUtcNow();
            await using var cmd = db.Command("""
                with expired as (delete from ws_revoked_tokens where expires_at < $3),
                     revoked as (insert into ws_revoked_tokens (token_id, expires_at) values ($1, $2) on conflict do nothing)
                select pg_notify($4, $5)
                """, tokenId, expiresAt, now, NotifyChannel, Payload(tokenId, expiresAt));
            await cmd.ExecuteNonQueryAsync(ct);
            _revoked[tokenId] = expiresAt;
            // The other nodes' listeners get the notification when this one does; one probe interval more lets a busy
            // node apply it before the client, told it is logged out, tries the token elsewhere.
            await echo.Task.WaitAsync(TrustFor, time, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            await Task.Delay(ProbeInterval, time, ct);
        }
        finally
        {
            _echoes.TryRemove(tokenId, out _);
        }
    }

    /// <summary>
    /// Waits until this node's set holds every revocation committed before the call (a probe sent after it returned),
    /// at most <see cref="TrustFor"/>, then one <see cref="ProbeInterval"/> more for the other nodes: what a command that
    /// revokes sessions in its own transaction (a password change or reset, log out everywhere; the rows' trigger notifies)
    /// waits for before it answers, so its caller finds those tokens refused at once.
    /// </summary>
    public async Task CatchUpAsync(CancellationToken ct)
    {
        var asked = time.GetUtcNow();
        while (Volatile.Read(ref _provenAt) <= asked.UtcTicks && time.GetUtcNow() - asked < TrustFor)
        {
            var probed = Volatile.Read(ref _probed);
            if (Volatile.Read(ref _provenAt) > asked.UtcTicks)
            {
                break;
            }
            await probed.Task.WaitAsync(TrustFor, time, ct).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        await Task.Delay(ProbeInterval, time, ct);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = resilience.NewBackoff();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var conn = await db.OpenConnectionAsync(stoppingToken);
                try
                {
                    conn.Notification += (_, e) => OnNotification(e.Payload);
                    await using (var listen = new NpgsqlCommand($"listen {NotifyChannel}", conn))
                    {
                        await listen.ExecuteNonQueryAsync(stoppingToken);
                    }
                    await ReloadAsync(conn, stoppingToken);
                    backoff.Reset();
                    var reloaded = time.GetUtcNow();
                    while (!stoppingToken.IsCancellationRequested)
                    {
                        var sent = time.GetUtcNow();
                        await using (var probe = new NpgsqlCommand("select 1", conn))
                        {
                            await probe.ExecuteScalarAsync(stoppingToken);
                        }
                        Volatile.Write(ref _provenAt, sent.UtcTicks);
                        Interlocked.Exchange(ref _probed, NewSignal()).TrySetResult();
                        if (sent - reloaded > ReloadInterval)
                        {
                            await ReloadAsync(conn, stoppingToken);
                            reloaded = sent;
                        }
                        // Notifications arriving meanwhile are handled as they come.
                        await conn.WaitAsync(ProbeInterval, stoppingToken);
                    }
                }
                finally
                {
                    await SessionState.ReleaseAsync(conn, "unlisten *"); // the pool does not reset sessions
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Volatile.Write(ref _provenAt, long.MinValue);
                log.LogWarning(e, "The revoked-token listener lost PostgreSQL; checks ask the database until it is back");
                await Task.Delay(backoff.Next(), time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task ReloadAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var sent = time.GetUtcNow();
        var loaded = new Dictionary<Guid, DateTimeOffset>();
        await using (var cmd = new NpgsqlCommand("select token_id, expires_at from ws_revoked_tokens where expires_at >= $1", conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = sent });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                loaded[r.GetGuid(0)] = r.GetFieldValue<DateTimeOffset>(1);
            }
        }
        foreach (var (id, expires) in loaded)
        {
            _revoked[id] = expires;
        }
        foreach (var (id, expires) in _revoked)
        {
            if (expires < sent && !loaded.ContainsKey(id))
            {
                _revoked.TryRemove(id, out _);
            }
        }
    }

    private void OnNotification(string payload)
    {
        var parts = payload.Split(' ');
        if (parts.Length == 2 && Guid.TryParse(parts[0], out var id)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            _revoked[id] = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            if (_echoes.TryGetValue(id, out var echo))
            {
                echo.TrySetResult();
            }
        }
    }

    private static string Payload(Guid tokenId, DateTimeOffset expiresAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{tokenId:N} {expiresAt.ToUnixTimeMilliseconds()}");
}
