using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Messages;

public sealed record PostMessage(string? Text, string? ClientMsgId, long? ThreadRootSeq);

public sealed record MessagePostedResponse(string ChannelId, long Seq, long Position, DateTimeOffset CreatedAt);

public static class PostMessageEndpoint
{
    public const int MaxClientMsgIdLength = 100;

    /// <summary>A member posts to a live channel; a reply names a top-level message of the same channel.</summary>
    public static MessagePosted Decide(ChannelState channel, MessageState? threadRoot, PostMessage command, string messageId, string actorId)
    {
        ChannelRules.EnsureMember(channel);
        ChannelRules.EnsureNotArchived(channel);
        var text = MessageRules.ValidText(command.Text);
        if (command.ThreadRootSeq is not null && threadRoot is not { IsTopLevel: true, Deleted: false })
        {
            throw CommandRejected.Invalid("threadRootSeq must name a top-level message of this channel.");
        }
        return new MessagePosted(channel.ChannelId, messageId, actorId, text, command.ThreadRootSeq, MessageRules.ParseMentions(text));
    }

    public static RouteGroupBuilder MapPostMessage(this RouteGroupBuilder group)
    {
        group.MapPost("/channels/{channelId}/messages", Handle).WithName("PostMessage")
            .RequireRateLimiting(RateLimitPolicies.Posting).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Results<Created<MessagePostedResponse>, Ok<MessagePostedResponse>>> Handle(
        string channelId, PostMessage command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        if (command.ClientMsgId is { Length: 0 or > MaxClientMsgIdLength })
        {
            throw CommandRejected.Invalid($"clientMsgId has 1 to {MaxClientMsgIdLength} characters.");
        }
        var stream = Ids.ChannelStream(channelId);
        // The client's id becomes the event id, per author and channel, so a retried send is stored once, and the same
        // id from another author is another message.
        Guid? eventId = command.ClientMsgId is { } clientId ? Ids.DeterministicGuid(stream, $"{actor.UserId}\n{clientId}") : null;

        // Posts to one channel take turns on the channel's state row instead of racing and retrying; the version
        // check still catches commands that append without taking the lock.
        return await ChatEventStore.RetryOnConflict(() => store.InTransactionAsync<Results<Created<MessagePostedResponse>, Ok<MessagePostedResponse>>>(async (tx, token) =>
        {
            var channel = await ChannelState.LockVisibleAsync(tx, channelId, actor, token);
            // Decided first: a caller who may not post here learns nothing from replaying an id.
            ChannelRules.EnsureMember(channel);
            ChannelRules.EnsureNotArchived(channel);
            if (eventId is { } id && await store.Log.FindEventAsync(stream, id, token) is { } earlier)
            {
                return TypedResults.Ok(new MessagePostedResponse(channelId, earlier.Version, earlier.Position, earlier.CreatedAt));
            }
            var root = command.ThreadRootSeq is { } rootSeq ? await MessageState.LoadAsync(store.DataSource, channelId, rootSeq, token) : null;
            var posted = Decide(channel, root, command, Ids.New(), actor.UserId);
            var result = await store.AppendAsync(tx, stream, ExpectedVersion.Exactly(channel.Version), [posted], actor, eventId, token);
            if (result.Duplicate)
            {
                return TypedResults.Ok(new MessagePostedResponse(channelId, result.Version, result.Position, result.CreatedAt));
            }
            await tx.ExecuteAsync(
                "insert into ws_messages (channel_id, seq, author_id, thread_root_seq) values ($1, $2, $3, $4)",
                token, channelId, result.Version, actor.UserId, posted.ThreadRootSeq);
            await ChannelState.SetVersionAsync(tx, channelId, result.Version, token);
            return TypedResults.Created($"/v1/channels/{channelId}/messages/{result.Version}",
                new MessagePostedResponse(channelId, result.Version, result.Position, result.CreatedAt));
        }, ct));
    }
}
