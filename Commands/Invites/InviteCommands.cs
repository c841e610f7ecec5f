using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Invites;

/// <summary>The invite commands (the list is a query: <c>ReadModels/Workspaces/InviteQueries</c>).</summary>
public static class InviteCommands
{
    public static RouteGroupBuilder MapInviteCommands(this RouteGroupBuilder group) =>
        group.MapCreateInvite().MapRevokeInvite().MapAcceptInvite();
}
