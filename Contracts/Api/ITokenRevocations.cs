namespace EventSourcedChat.Contracts.Api;

/// <summary>
/// What the revoked bearer tokens offer outside the commands module (the gateway's sweep of open hub connections):
/// whether a token was revoked, and whether that answer comes from a set proven current (no database read).
/// </summary>
public interface ITokenRevocations
{
    /// <summary>True while the node's in-memory set of revoked tokens is proven current.</summary>
    bool IsCurrent { get; }

    /// <summary>True when the token was revoked (log-out, log out everywhere, a password change or reset).</summary>
    ValueTask<bool> IsRevokedAsync(Guid tokenId, CancellationToken ct);
}
