using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;

namespace EventSourcedChat.Commands.Invites;

/// <summary>Who may manage a workspace's invites.</summary>
public static class InviteRules
{
    /// <summary>Admins only: someone outside the workspace does not see it (404), a member is refused (403).</summary>
    public static void RequireAdmin(WorkspaceState workspace, string actorId, string refusal)
    {
        var role = workspace.RoleOf(actorId) ?? throw CommandRejected.NotFound("The workspace");
        if (role != "admin")
        {
            throw CommandRejected.Forbidden(refusal);
        }
    }
}
