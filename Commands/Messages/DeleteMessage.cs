using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Messages;

public static class DeleteMessageEndpoint
{
    /// <summary>
    /// The author, the channel's creator or a workspace admin turns a message into a tombstone (the original stays in
    /// the log for auditors). Moderators need not be members; the channel must be visible to them (404 otherwise).
    /// Deleting an already deleted message is an idempotent no-op: nothing is appended and the answer is 200 with the
    /// channel's head position, so a client retrying a DELETE whose answer it lost is told it succeeded. Permission is
    /// checked first, so the no-op reveals nothing to people who could not have deleted the message.
    /// An archived channel is read-only: 409 channel_archived (except for that no-op).
    /// </summary>
    /// <returns>The tombstone, or null when the message is already deleted.</returns>
    public static MessageDeleted? Decide(WorkspaceState workspace, ChannelState channel, long seq, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        if (channel.Message(seq) is not { } message)
        {
            throw CommandRejected.NotFound("The message");
        }
        if (message.AuthorId != actorId && channel.CreatedBy != actorId && !workspace.IsAdmin(actorId))
        {
            throw CommandRejected.Forbidden("Only the author, the channel's creator or a workspace admin deletes a message.");
        }
        if (message.Deleted)
        {
            return null;
        }
        ChannelRules.EnsureNotArchived(channel);
        return new MessageDeleted(channel.ChannelId, message.Seq, actorId);
    }

    public static RouteGroupBuilder MapDeleteMessage(this RouteGroupBuilder group)
    {
        group.MapDelete("/channels/{channelId}/messages/{seq:long}", Handle).WithName("DeleteMessage")
            .RequireRateLimiting(RateLimitPolicies.Posting).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(string channelId, long seq, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, new ChannelSlice(Seq: seq),
            ChannelPipeline.Pure((workspace, channel) => Decide(workspace, channel, seq, actor.UserId) is { } deleted ? [deleted] : []), ct));
    }
}
