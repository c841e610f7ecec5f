using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.Commands.Channels;

public sealed record InviteMember(string? UserId);

/// <summary>The user a member command names: whether they are in the channel's workspace and in the channel.</summary>
public sealed record TargetUser(string UserId, bool InWorkspace, bool InChannel)
{
    public static async Task<TargetUser> LoadAsync(NpgsqlDataSource db, ChannelState channel, string? userId, CancellationToken ct)
    {
        var id = userId?.Trim() ?? "";
        await using var cmd = db.Command("""
            select exists (select 1 from ws_workspace_members where workspace_id = $1 and user_id = $3),
                   exists (select 1 from ws_channel_members where channel_id = $2 and user_id = $3)
            """, channel.WorkspaceId, channel.ChannelId, id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new TargetUser(id, r.GetBoolean(0), r.GetBoolean(1));
    }
}

public static class ChannelMembersEndpoints
{
    /// <summary>A member invites a member of the workspace into a live channel; inviting a member again changes nothing.</summary>
    public static IReadOnlyList<object> DecideInvite(ChannelState channel, TargetUser target, string actorId)
    {
        ChannelRules.EnsureMember(channel);
        ChannelChange.EnsureNotDm(channel, "joined by invitation");
        ChannelRules.EnsureNotArchived(channel);
        if (!target.InWorkspace)
        {
            throw CommandRejected.NotFound("The user");
        }
        return target.InChannel ? [] : [new MemberJoined(channel.ChannelId, target.UserId, actorId)];
    }

    /// <summary>The channel's creator or a workspace admin removes a member (also from an archived channel).</summary>
    public static IReadOnlyList<object> DecideRemove(ChannelState channel, TargetUser target, string actorId)
    {
        ChannelChange.EnsureNotDm(channel, "left");
        ChannelChange.EnsureCreatorOrAdmin(channel, actorId, "remove members");
        return target.InChannel
            ? [new MemberLeft(channel.ChannelId, target.UserId, actorId)]
            : throw CommandRejected.NotFound("The channel member");
    }

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
        return TypedResults.Ok(await ChannelChange.RunAsync(store, channelId, actor, async channel =>
            DecideInvite(channel, await TargetUser.LoadAsync(store.DataSource, channel, command.UserId, ct), actor.UserId), ct));
    }

    private static async Task<Ok<PositionResponse>> Remove(
        string channelId, string userId, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        return TypedResults.Ok(await ChannelChange.RunAsync(store, channelId, actor, async channel =>
            DecideRemove(channel, await TargetUser.LoadAsync(store.DataSource, channel, userId, ct), actor.UserId), ct));
    }
}
