using System.Collections.Immutable;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Commands.Workspaces;

/// <summary>
/// A workspace stream folded by <see cref="Evolve"/>. A state loaded from the write side
/// (<see cref="WorkspaceWriteSide"/>) holds only the roles of the users a command names.
/// </summary>
/// <param name="Roles">admin, member or auditor, by user id.</param>
public sealed partial record WorkspaceState(string WorkspaceId, string Name, string CreatedBy, long Version, ImmutableDictionary<string, string> Roles)
{
    public static WorkspaceState Initial { get; } = new("", "", "", 0, ImmutableDictionary<string, string>.Empty);

    public bool Exists => Version > 0;

    /// <summary>The user's role, or null when they are not in the workspace.</summary>
    public string? RoleOf(string userId) => Roles.GetValueOrDefault(userId);

    public bool IsAdmin(string userId) => RoleOf(userId) == "admin";

    public static WorkspaceState Evolve(WorkspaceState state, object @event)
    {
        var s = state with { Version = state.Version + 1 };
        return @event switch
        {
            WorkspaceCreated c => s with { WorkspaceId = c.WorkspaceId, Name = c.Name, CreatedBy = c.CreatedBy },
            WorkspaceMemberAdded m => s with { Roles = s.Roles.SetItem(m.UserId, m.Role) },
            WorkspaceMemberRemoved r => s with { Roles = s.Roles.Remove(r.UserId) },
            ChannelAuditRead => s, // a record of who read what; no decision depends on it
            InviteCreated or InviteAccepted or InviteRevoked => EvolveInvite(s, @event), // WorkspaceState.Invites.cs
            _ => throw new UnknownEventException("workspace", @event),
        };
    }
}
