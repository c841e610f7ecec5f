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
    public static object? Decide(ChannelState channel, MessageState? message, string emoji, bool add, bool alreadyReacted, string actorId)
    {
        if (message is not { Deleted: false })
        {
            throw CommandRejected.NotFound("The message");
        }
        ChannelRules.EnsureMember(channel);
        ChannelRules.EnsureNotArchived(channel);
        return (add, alreadyReacted) switch
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
        var stream = Ids.ChannelStream(channelId);
        return await ChatEventStore.RetryOnConflict(async () =>
        {
            var channel = await ChannelState.LoadVisibleAsync(store.DataSource, channelId, actor, ct);
            var message = await MessageState.LoadAsync(store.DataSource, channelId, seq, ct);
            await using var cmd = store.DataSource.Command(
                "select exists (select 1 from ws_reactions where channel_id = $1 and seq = $2 and emoji = $3 and user_id = $4)",
                channelId, seq, emoji, actor.UserId);
            var reacted = (bool)(await cmd.ExecuteScalarAsync(ct))!;
            if (Decide(channel, message, emoji, add, reacted, actor.UserId) is not { } change)
            {
                return TypedResults.Ok(new PositionResponse(await store.HeadPositionAsync(stream, ct)));
            }
            var result = await store.AppendAsync(stream, ExpectedVersion.Exactly(channel.Version), [change], actor,
                async (appended, tx, token) =>
                {
                    await tx.ExecuteAsync(add
                        ? "insert into ws_reactions (channel_id, seq, emoji, user_id) values ($1, $2, $3, $4)"
                        : "delete from ws_reactions where channel_id = $1 and seq = $2 and emoji = $3 and user_id = $4",
                        token, channelId, seq, emoji, actor.UserId);
                    await ChannelState.SetVersionAsync(tx, channelId, appended.Version, token);
                }, ct: ct);
            return TypedResults.Ok(new PositionResponse(result.Position));
        });
    }
}
