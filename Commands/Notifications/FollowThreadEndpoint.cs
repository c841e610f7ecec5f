using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Notifications;

public static class FollowThreadEndpoint
{
    /// <summary>
    /// A member follows or unfollows the thread of a live message (a reply's seq names its root's thread): 404 for a
    /// channel they may not see or a message that does not exist or is deleted, 403 <c>not_in_channel</c> for a
    /// non-member. Following a thread followed by hand already, or unfollowing one unfollowed already, decides nothing.
    /// </summary>
    public static object? Decide(WorkspaceState workspace, ChannelState channel, UserState user, long seq, bool follow)
    {
        ChannelRules.EnsureVisible(workspace, channel, user.UserId);
        if (channel.Message(seq) is not { Deleted: false } message)
        {
            throw CommandRejected.NotFound("The message");
        }
        ChannelRules.EnsureMember(channel, user.UserId);
        var root = message.ThreadRootSeq ?? message.Seq;
        if (user.FollowedThreads.TryGetValue((channel.ChannelId, root), out var following) && following == follow)
        {
            return null;
        }
        return follow
            ? new ThreadFollowed(user.UserId, channel.ChannelId, root)
            : new ThreadUnfollowed(user.UserId, channel.ChannelId, root);
    }

    public static RouteGroupBuilder MapFollowThread(this RouteGroupBuilder group)
    {
        const string path = "/channels/{channelId}/messages/{seq:long}/follow";
        group.MapPut(path, (string channelId, long seq, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, seq, follow: true, http, store, ct)).WithName("FollowThread");
        group.MapDelete(path, (string channelId, long seq, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, seq, follow: false, http, store, ct)).WithName("UnfollowThread");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(string channelId, long seq, bool follow, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var result = await UserPipeline.RunAsync(store, actor.UserId, actor,
            async (tx, token) =>
            {
                var (workspace, channel) = await ChannelWriteSide.LoadAsync(tx, channelId, actor.UserId, new ChannelSlice(Seq: seq), token);
                ChannelRules.EnsureVisible(workspace, channel, actor.UserId);
                var root = channel.Message(seq) is { } m ? m.ThreadRootSeq ?? m.Seq : seq;
                return (workspace, channel, User: await NotificationWriteSide.LoadChannelAsync(store.Log, tx, actor.UserId, channelId, root, token));
            },
            loaded => loaded.User,
            loaded => Decide(loaded.workspace, loaded.channel, loaded.User, seq, follow) is { } e ? [e] : [], ct);
        return TypedResults.Ok(new PositionResponse(result?.Position ?? await store.HeadPositionAsync(Ids.UserStream(actor.UserId), ct)));
    }
}
