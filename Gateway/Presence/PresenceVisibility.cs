using EventSourcedChat.ReadModels.Workspaces;
using Microsoft.AspNetCore.SignalR;
using Npgsql;

namespace EventSourcedChat.Gateway.Presence;

/// <summary>
/// Whose presence a caller may watch, as <c>GET /v1/users/{id}</c> answers it: themselves and whoever shares a workspace
/// with them, from the directory read model (<see cref="WorkspaceMembership"/>). Others are left out exactly like ids
/// that do not exist: a stranger learns nothing of anyone's presence.
/// </summary>
public sealed class PresenceVisibility(NpgsqlDataSource db, ILogger<PresenceVisibility> logger)
{
    /// <summary>Those of <paramref name="userIds"/> the caller may see; hub error <c>unavailable</c> when PostgreSQL does not answer.</summary>
    public async Task<string[]> VisibleAsync(string callerId, string[] userIds)
    {
        try
        {
            return await WorkspaceMembership.VisibleUsersAsync(db, callerId, userIds, CancellationToken.None);
        }
        catch (NpgsqlException e)
        {
            logger.LogWarning("Presence subscription refused, PostgreSQL does not answer: {Error}", e.Message);
            throw new HubException("unavailable");
        }
    }
}
