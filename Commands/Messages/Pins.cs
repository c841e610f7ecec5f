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

public static class PinsEndpoint
{
    /// <summary>The most messages a channel may have pinned at once; one more is 409 <c>pin_limit_reached</c>.</summary>
    public const int MaxPinsPerChannel = 100;

    /// <summary>
    /// A member pins or unpins a live message (top-level or reply) of a live channel, with the answers reactions give:
    /// 404 for a channel the actor may not see or a message that does not exist or is deleted, 403 <c>not_in_channel</c>
    /// for a non-member, 409 <c>channel_archived</c>. Idempotent: pinning a pinned message, or unpinning one that is not
    /// pinned, decides nothing (null). Pinning past <see cref="MaxPinsPerChannel"/> is 409 <c>pin_limit_reached</c>.
    /// </summary>
    public static object? Decide(WorkspaceState workspace, ChannelState channel, long seq, bool pin, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        if (channel.Message(seq) is not { Deleted: false } message)
        {
            throw CommandRejected.NotFound("The message");
        }
        ChannelRules.EnsureMember(channel, actorId);
        ChannelRules.EnsureNotArchived(channel);
        if (pin == message.Pinned)
        {
            return null;
        }
        if (pin && channel.PinCount >= MaxPinsPerChannel)
        {
            throw CommandRejected.Conflict(ErrorCodes.PinLimitReached,
                $"A channel has at most {MaxPinsPerChannel} pinned messages: unpin one first.");
        }
        return pin
            ? new MessagePinned(channel.ChannelId, message.Seq, actorId)
            : new MessageUnpinned(channel.ChannelId, message.Seq, actorId);
    }

    public static RouteGroupBuilder MapPins(this RouteGroupBuilder group)
    {
        const string path = "/channels/{channelId}/messages/{seq:long}/pin";
        group.MapPut(path, (string channelId, long seq, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, seq, pin: true, http, store, ct)).WithName("PinMessage")
                .RequireRateLimiting(RateLimitPolicies.Posting).ProducesProblem(StatusCodes.Status429TooManyRequests);
        group.MapDelete(path, (string channelId, long seq, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, seq, pin: false, http, store, ct)).WithName("UnpinMessage")
                .RequireRateLimiting(RateLimitPolicies.Posting).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, long seq, bool pin, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, new ChannelSlice(Seq: seq),
            ChannelPipeline.Pure((workspace, channel) => Decide(workspace, channel, seq, pin, actor.UserId) is { } change ? [change] : []), ct));
    }
}
