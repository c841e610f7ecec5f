using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.Commands.Workspaces;

/// <summary>
/// <c>DELETE /v1/workspaces/{ws}/members/{userId}</c>: an admin removes a member, or a member leaves (their own id).
/// Two steps, each through its stream's pipeline: (1) <see cref="WorkspaceMemberRemoved"/> on the workspace stream,
/// decided under the workspace row's lock (the last admin stays); from its commit on, every channel decision and query
/// refuses the user, who holds no workspace role any more; (2) a <see cref="MemberLeft"/> on each channel of the workspace
/// the user is still a member of (DMs too), one channel transaction each (<see cref="ChannelMembersEndpoints.DecideEndedByWorkspace"/>),
/// so the channel's members, counts and the user's live connections (the gateway unbinds on <c>member.left</c>) follow.
/// Removing someone who is not a member changes nothing on the workspace but still ends any channel membership left
/// behind (a retry after a crash between the steps completes the removal).
/// </summary>
public static class RemoveWorkspaceMemberEndpoint
{
    /// <summary>How many times the user's remaining channels are listed again (a join decided just before step 1 may commit after a listing).</summary>
    private const int ChannelPasses = 3;

    /// <param name="adminCount">How many admins the workspace has (read under the workspace row's lock).</param>
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, int adminCount, string targetId, string actorId)
    {
        var actorRole = workspace.RoleOf(actorId) ?? throw CommandRejected.NotFound("The workspace");
        var leaving = targetId == actorId;
        if (!leaving && actorRole != "admin")
        {
            throw CommandRejected.Forbidden("Only workspace admins remove members; a member may remove only themselves (leave).");
        }
        var targetRole = workspace.RoleOf(targetId);
        if (targetRole is null)
        {
            return [];
        }
        if (targetRole == "admin" && adminCount <= 1)
        {
            throw CommandRejected.Conflict(ErrorCodes.LastAdmin,
                leaving ? "The last admin cannot leave the workspace: make another member admin first."
                        : "The last admin cannot be removed: make another member admin first.");
        }
        return [new WorkspaceMemberRemoved(workspace.WorkspaceId, targetId, leaving ? null : actorId)];
    }

    public static RouteGroupBuilder MapRemoveWorkspaceMember(this RouteGroupBuilder group)
    {
        group.MapDelete("/workspaces/{workspaceId}/members/{userId}", Handle).WithName("RemoveWorkspaceMember");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string workspaceId, string userId, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var target = userId.Trim();
        var removed = await WorkspacePipeline.RunAsync(store, actor,
            async (tx, token) => (
                Workspace: await WorkspaceWriteSide.LoadAsync(tx, workspaceId, [actor.UserId, target], token, lockRow: true),
                Admins: await WorkspaceWriteSide.AdminCountAsync(tx, workspaceId, token)),
            loaded => loaded.Workspace,
            loaded => Decide(loaded.Workspace, loaded.Admins, target, actor.UserId), ct);
        var last = removed;
        var removedBy = target == actor.UserId ? null : actor.UserId;
        for (var pass = 0; pass < ChannelPasses && Ids.IsValid(target); pass++)
        {
            var appended = false;
            foreach (var channelId in await ChannelWriteSide.ChannelsOfAsync(store.DataSource, workspaceId, target, ct))
            {
                var left = await ChannelPipeline.RunAsync(store, channelId, actor, new ChannelSlice(TargetUserId: target),
                    ChannelPipeline.Pure((workspace, channel) => ChannelMembersEndpoints.DecideEndedByWorkspace(workspace, channel, target, removedBy)), ct);
                if (left is not null)
                {
                    (last, appended) = (left, true);
                }
            }
            if (!appended)
            {
                break;
            }
        }
        return TypedResults.Ok(new PositionResponse(last?.Position ?? await store.HeadPositionAsync(Ids.WorkspaceStream(workspaceId), ct)));
    }
}
