using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Channels;

public sealed record InviteMember(string? UserId);

public static class ChannelMembersEndpoints
{
    /// <summary>A member invites a member of the workspace into a live channel; inviting a member again changes nothing.</summary>
    public static IReadOnlyList<object> DecideInvite(WorkspaceState workspace, ChannelState channel, string targetId, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        ChannelRules.EnsureMember(channel, actorId);
        ChannelChange.EnsureNotDm(channel, "joined by invitation");
        ChannelRules.EnsureNotArchived(channel);
        if (workspace.RoleOf(targetId) is null)
        {
            throw CommandRejected.NotFound("The user");
        }
        return channel.IsMember(targetId) ? [] : [new MemberJoined(channel.ChannelId, targetId, actorId)];
    }

    /// <summary>The channel's creator or a workspace admin removes a member (also from an archived channel).</summary>
    public static IReadOnlyList<object> DecideRemove(WorkspaceState workspace, ChannelState channel, string targetId, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        ChannelChange.EnsureNotDm(channel, "left");
        ChannelChange.EnsureCreatorOrAdmin(workspace, channel, actorId, "remove members");
        return channel.IsMember(targetId)
            ? [new MemberLeft(channel.ChannelId, targetId, actorId)]
            : throw CommandRejected.NotFound("The channel member");
    }

    /// <summary>
    /// The user's membership of the workspace ended (<see cref="WorkspaceMemberRemoved"/>): their membership of the
    /// channel ends too, DMs included (<paramref name="removedBy"/> null when they left by themselves). Nothing when they
    /// are no longer a member, or are in the workspace again.
    /// </summary>
    public static IReadOnlyList<object> DecideEndedByWorkspace(WorkspaceState workspace, ChannelState channel, string targetId, string? removedBy) =>
        channel.Exists && channel.IsMember(targetId) && workspace.RoleOf(targetId) is null
            ? [new MemberLeft(channel.ChannelId, targetId, removedBy)]
            : [];

    public static RouteGroupBuilder MapChannelMembers(this RouteGroupBuilder group)
    {
        group.MapPost("/channels/{channelId}/members", Invite).WithName("InviteChannelMember");
        group.MapDelete("/channels/{channelId}/members/{userId}", Remove).WithName("RemoveChannelMember");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Invite(
        string channelId, InviteMember command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var target = command.UserId?.Trim() ?? "";
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, new ChannelSlice(TargetUserId: target),
            ChannelPipeline.Pure((workspace, channel) => DecideInvite(workspace, channel, target, actor.UserId)), ct));
    }

    private static async Task<Ok<PositionResponse>> Remove(
        string channelId, string userId, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var target = userId.Trim();
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, new ChannelSlice(TargetUserId: target),
            ChannelPipeline.Pure((workspace, channel) => DecideRemove(workspace, channel, target, actor.UserId)), ct));
    }
}
