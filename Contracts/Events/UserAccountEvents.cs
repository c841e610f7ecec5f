namespace EventSourcedChat.Contracts.Events;

// Stream: user-{userId}. The account's standing, decided by instance administrators.

/// <summary>
/// An instance administrator (<paramref name="By"/>) deactivated the account: every session is revoked with it, its live
/// connections are closed, and signing in is refused until it is reactivated. What the user wrote stays; profiles show
/// the flag.
/// </summary>
[EventType("user.deactivated", version: 1)]
public sealed record UserDeactivated(string UserId, string By);

/// <summary>An instance administrator reactivated a deactivated account: signing in works again (old sessions stay revoked).</summary>
[EventType("user.reactivated", version: 1)]
public sealed record UserReactivated(string UserId, string By);
