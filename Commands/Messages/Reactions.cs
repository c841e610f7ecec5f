using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Messages;

public static class ReactionsEndpoint
{
    /// <summary>
    /// A member adds or removes their reaction on a live message of a live channel. Idempotent: adding a reaction
    /// the member already has, or removing one they do not have, decides nothing (null).
    /// </summary>
    public static object? Decide(WorkspaceState workspace, ChannelState channel, long seq, string emoji, bool add, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        if (channel.Message(seq) is not { Deleted: false } message)
        {
            throw CommandRejected.NotFound("The message");
        }
        ChannelRules.EnsureMember(channel, actorId);
        ChannelRules.EnsureNotArchived(channel);
        return (add, message.HasReaction(emoji, actorId)) switch
        {
            (true, false) => new Contracts.Events.ReactionAdded(channel.ChannelId, message.Seq, emoji, actorId),
            (false, true) => new Contracts.Events.ReactionRemoved(channel.ChannelId, message.Seq, emoji, actorId),
            _ => null,
        };
    }

    public static RouteGroupBuilder MapReactions(this RouteGroupBuilder group)
    {
        const string path = "/channels/{channelId}/messages/{seq:long}/reactions/{emoji}";
        group.MapPut(path, (string channelId, long seq, string emoji, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, seq, emoji, add: true, http, store, ct)).WithName("AddReaction")
                .RequireRateLimiting(RateLimitPolicies.Posting).ProducesProblem(StatusCodes.Status429TooManyRequests);
        group.MapDelete(path, (string channelId, long seq, string emoji, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, seq, emoji, add: false, http, store, ct)).WithName("RemoveReaction")
                .RequireRateLimiting(RateLimitPolicies.Posting).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, long seq, string emoji, bool add, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        emoji = MessageRules.ValidEmoji(emoji); // route values arrive URL-decoded
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, new ChannelSlice(Seq: seq, Emoji: emoji),
            ChannelPipeline.Pure((workspace, channel) => Decide(workspace, channel, seq, emoji, add, actor.UserId) is { } change ? [change] : []), ct));
    }
}
