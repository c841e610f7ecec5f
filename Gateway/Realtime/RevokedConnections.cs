using System.Security.Claims;
using EventSourcedChat.Contracts.Api;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// Closes this node's hub connections whose bearer token was revoked after they opened: log-out, a password change or
/// reset, log out everywhere (a deactivation closes the user's connections through its pushed event, see
/// <see cref="ChannelFanOut"/>). Every <see cref="SweepInterval"/> each local connection's token id is looked up in the
/// in-memory set of revoked tokens (<see cref="ITokenRevocations"/>, current on every node within a second of a revocation),
/// and a revoked one is aborted, as a deactivation's are; the client's reconnect is then refused (401). While that set is
/// not proven current (its listener lost PostgreSQL) the sweep skips its turn rather than ask the database once per
/// connection.
/// </summary>
public sealed class RevokedConnections(ChatHubLifetimeManager lifetime, ITokenRevocations revoked, TimeProvider time, ILogger<RevokedConnections> log)
    : BackgroundService
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "Closing the connections of revoked tokens failed; trying again at the next sweep");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        foreach (var connection in lifetime.Connections)
        {
            if (!revoked.IsCurrent)
            {
                return; // each check would read the database: wait for the listener
            }
            if (Guid.TryParse(connection.User?.FindFirstValue(ChatClaims.TokenId), out var tokenId)
                && await revoked.IsRevokedAsync(tokenId, ct))
            {
                log.LogInformation("Closing hub connection {ConnectionId} of user {UserId}: its token was revoked", connection.ConnectionId, connection.UserIdentifier);
                connection.Abort();
            }
        }
    }
}
