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

public sealed record EditMessage(string? Text);

public static class EditMessageEndpoint
{
    /// <summary>
    /// The author, still a member, rewrites a live message of a live channel; mentions are parsed again.
    /// A deleted message, or a seq that is no message (seq 1 is channel.created), is not found.
    /// </summary>
    public static MessageEdited Decide(WorkspaceState workspace, ChannelState channel, long seq, EditMessage command, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        if (channel.Message(seq) is not { Deleted: false } message)
        {
            throw CommandRejected.NotFound("The message");
        }
        if (message.AuthorId != actorId)
        {
            throw CommandRejected.Forbidden("Only the author edits a message.");
        }
        ChannelRules.EnsureMember(channel, actorId);
        ChannelRules.EnsureNotArchived(channel);
        var text = MessageRules.ValidText(command.Text);
        return new MessageEdited(channel.ChannelId, message.Seq, text, MessageRules.ParseMentions(text), actorId);
    }

    public static RouteGroupBuilder MapEditMessage(this RouteGroupBuilder group)
    {
        group.MapPatch("/channels/{channelId}/messages/{seq:long}", Handle).WithName("EditMessage")
            .RequireRateLimiting(RateLimitPolicies.Posting).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, long seq, EditMessage command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, new ChannelSlice(Seq: seq),
            ChannelPipeline.Pure((workspace, channel) => [Decide(workspace, channel, seq, command, actor.UserId)]), ct));
    }
}
