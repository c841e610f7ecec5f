using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.Projections.Unread;

/// <summary>
/// The threads part of the unread model: what the threads view (<c>GET /v1/workspaces/{ws}/threads</c>) reads. A
/// reply's unread state is the channel's: a reply after the reader's baseline (read marker or join) is unread, as a
/// top-level message is; there is no read marker per thread.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>thread_replies(channel_id, seq, root_seq, author_id, deleted)</c>: one row per reply (its mentions are in
/// <c>mentions</c> like a top-level message's).</item>
/// <item><c>threads(channel_id, root_seq, last_reply_seq, last_reply_position)</c>: one row per thread with a reply; the
/// last reply's global position orders the view across channels (unique: one event is the last reply of one thread).</item>
/// <item><c>thread_follows(user_id, channel_id, root_seq, following)</c>: who follows a thread, as the notification
/// worker decides it: the root's author once the thread has a reply (unless they unfollowed it), every replier (a reply
/// follows again after an unfollow), and whoever followed (<see cref="ThreadFollowed"/>) or unfollowed
/// (<see cref="ThreadUnfollowed"/>) it by hand.</item>
/// </list>
/// </remarks>
public sealed partial class UnreadProjection
{
    private const string ThreadTables = """

        create table if not exists thread_replies (
            channel_id text not null, seq bigint not null, root_seq bigint not null, author_id text not null,
            deleted boolean not null default false, primary key (channel_id, seq));
        create index if not exists thread_replies_root on thread_replies (channel_id, root_seq, seq);
        create table if not exists threads (
            channel_id text not null, root_seq bigint not null, last_reply_seq bigint not null,
            last_reply_position bigint not null, primary key (channel_id, root_seq));
        create table if not exists thread_follows (
            user_id text not null, channel_id text not null, root_seq bigint not null, following boolean not null,
            primary key (user_id, channel_id, root_seq));
        """;

    private static void ApplyReply(MessagePosted e, long root, EventContext c)
    {
        c.Sql("""
            insert into thread_replies (channel_id, seq, root_seq, author_id) values ($1, $2, $3, $4)
            on conflict do nothing
            """, e.ChannelId, c.Seq, root, e.UserId);
        c.Sql("""
            insert into threads as t (channel_id, root_seq, last_reply_seq, last_reply_position) values ($1, $2, $3, $4)
            on conflict (channel_id, root_seq) do update
               set last_reply_seq = greatest(t.last_reply_seq, excluded.last_reply_seq),
                   last_reply_position = greatest(t.last_reply_position, excluded.last_reply_position)
            """, e.ChannelId, root, c.Seq, c.Position);
        c.Sql("""
            insert into thread_follows as f (user_id, channel_id, root_seq, following) values ($1, $2, $3, true)
            on conflict (user_id, channel_id, root_seq) do update set following = true
            """, e.UserId, e.ChannelId, root);
        c.Sql("""
            insert into thread_follows (user_id, channel_id, root_seq, following)
            select m.author_id, m.channel_id, m.seq, true from channel_messages m where m.channel_id = $1 and m.seq = $2
            on conflict do nothing
            """, e.ChannelId, root);
        if (e.Mentions?.UserIds is { Count: > 0 } users)
        {
            c.Sql("""
                insert into mentions (channel_id, seq, user_id)
                select $1, $2, u from unnest($3::text[]) u where u <> $4
                on conflict do nothing
                """, e.ChannelId, c.Seq, users.ToArray(), e.UserId);
        }
    }

    private void OnThreadFollows()
    {
        On<ThreadFollowed>((e, c) => Follow(c, e.UserId, e.ChannelId, e.RootSeq, following: true));
        On<ThreadUnfollowed>((e, c) => Follow(c, e.UserId, e.ChannelId, e.RootSeq, following: false));
    }

    private static void Follow(EventContext c, string userId, string channelId, long rootSeq, bool following) => c.Sql("""
        insert into thread_follows as f (user_id, channel_id, root_seq, following) values ($1, $2, $3, $4)
        on conflict (user_id, channel_id, root_seq) do update set following = excluded.following
        """, userId, channelId, rootSeq, following);
}
