using System.Collections.Immutable;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Commands.Workspaces;

/// <summary>
/// An invite as the workspace fold holds it: the hash of its secret, who may use it (<see cref="Email"/>, or anyone with
/// the link when null), until when, how many times, how many uses are taken, and whether it was revoked.
/// </summary>
public sealed record InviteState(
    string InviteId, string CodeHash, string? Email, int MaxUses, int Uses, DateTimeOffset ExpiresAt, string CreatedBy, bool Revoked)
{
    public bool UsedUp => Uses >= MaxUses;

    /// <summary>Works now: not revoked, not expired, a use left.</summary>
    public bool LiveAt(DateTimeOffset now) => !Revoked && ExpiresAt > now && !UsedUp;
}

/// <summary>The invites of a workspace stream (a state loaded from the write side holds only the one a command names).</summary>
public sealed partial record WorkspaceState
{
    /// <summary>By invite id.</summary>
    public ImmutableDictionary<string, InviteState> Invites { get; init; } = ImmutableDictionary<string, InviteState>.Empty;

    public InviteState? InviteOf(string inviteId) => Invites.GetValueOrDefault(inviteId);

    /// <summary>The invite events' part of <see cref="Evolve"/> (the version is moved there).</summary>
    private static WorkspaceState EvolveInvite(WorkspaceState s, object @event) => @event switch
    {
        InviteCreated c => s with
        {
            Invites = s.Invites.SetItem(c.InviteId,
                new InviteState(c.InviteId, c.CodeHash, c.Email, c.MaxUses, 0, c.ExpiresAt, c.CreatedBy, Revoked: false)),
        },
        InviteAccepted a => s.InviteOf(a.InviteId) is { } i ? s with { Invites = s.Invites.SetItem(i.InviteId, i with { Uses = i.Uses + 1 }) } : s,
        InviteRevoked r => s.InviteOf(r.InviteId) is { } i ? s with { Invites = s.Invites.SetItem(i.InviteId, i with { Revoked = true }) } : s,
        _ => throw new UnknownEventException("workspace", @event),
    };
}
