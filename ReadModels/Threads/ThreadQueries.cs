using EventSourcedChat.Projections.History;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Projections.Unread;
using EventSourcedChat.ReadModels.History;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.ReadModels.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.ReadModels.Threads;

/// <summary>A thread the caller follows: its root, its last reply and the caller's counts.</summary>
/// <param name="UnreadReplies">Replies by others after the caller's read marker in the channel (or the seq they joined at).</param>
/// <param name="MentionCount">Those of them that mention the caller by name.</param>
public sealed record ThreadView(
    string ChannelId, long RootSeq, MessageView? Root, MessageView? LastReply, long UnreadReplies, long MentionCount);

/// <param name="NextCursor">Give it as <c>?cursor=</c> for the next page; null on the last page.</param>
public sealed record ThreadPage(IReadOnlyList<ThreadView> Threads, string? NextCursor);

/// <summary>
/// <c>GET /v1/workspaces/{workspaceId}/threads?cursor=&amp;limit=</c>: the threads the caller follows in channels of the
/// workspace they are a member of now, with at least one reply, the latest reply first, for anyone in the workspace
/// (anyone else 404). From the unread read model (follows, replies, read markers, mentions), the directory
/// (membership) and history (the root and last reply as the history API shows them). Keyset pages: the cursor is the
/// last thread's last reply position.
/// </summary>
public static class ThreadQueries
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 50;

    private static readonly string[] Checkpoints =
    [
        Projection.CheckpointOf(UnreadProjection.ProjectionName), Projection.CheckpointOf(HistoryProjection.ProjectionName),
        ChannelAccess.Directory,
    ];

    /// <summary>$1 the caller, $2 the workspace, $3 the page size + 1, $4 the cursor's position (or the largest).</summary>
    private const string Select = """
        select f.channel_id, f.root_seq, t.last_reply_seq, t.last_reply_position,
               (select count(*) from rm_unread.thread_replies r
                 where r.channel_id = f.channel_id and r.root_seq = f.root_seq and r.seq > b.baseline
                   and not r.deleted and r.author_id <> $1) as unread,
               (select count(*) from rm_unread.thread_replies r
                  join rm_unread.mentions n on n.channel_id = r.channel_id and n.seq = r.seq and n.user_id = $1
                 where r.channel_id = f.channel_id and r.root_seq = f.root_seq and r.seq > b.baseline and not r.deleted) as mentions
          from rm_unread.thread_follows f
          join rm_unread.threads t on t.channel_id = f.channel_id and t.root_seq = f.root_seq
          join rm_directory.channels c on c.channel_id = f.channel_id and c.workspace_id = $2
          join rm_directory.channel_members m on m.channel_id = f.channel_id and m.user_id = $1
          cross join lateral (
              select greatest(m.joined_seq, coalesce((select k.seq from rm_unread.read_markers k
                                                       where k.user_id = $1 and k.channel_id = f.channel_id), 0)) as baseline) b
         where f.user_id = $1 and f.following and t.last_reply_position < $4
         order by t.last_reply_position desc
         limit $3
        """;

    public static RouteGroupBuilder MapThreadQueries(this RouteGroupBuilder group)
    {
        group.MapGroup("").WaitsFor(Checkpoints)
            .MapGet("/workspaces/{workspaceId}/threads", HandleAsync).WithName("ListFollowedThreads").Produces<ThreadPage>();
        return group;
    }

    private static async Task<IResult> HandleAsync(string workspaceId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Paging.TryLimit(http, DefaultLimit, MaxLimit, out var limit))
        {
            return QueryActor.Invalid($"limit is an integer from 1 to {MaxLimit}.");
        }
        long before = long.MaxValue;
        if (!Paging.TryCursor(http, 1, out var after)
            || after is [var raw] && !long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out before))
        {
            return QueryActor.Invalid("cursor is not one this API gave out: pass the previous page's nextCursor unchanged.");
        }
        var userId = QueryActor.UserId(http);
        if (await WorkspaceMembership.RoleOfAsync(db, workspaceId, userId, ct) is null)
        {
            return QueryActor.NotFound("The workspace");
        }
        var rows = new List<(string Channel, long Root, long LastSeq, long LastPosition, long Unread, long Mentions)>();
        await using (var cmd = db.CreateCommand(Select))
        {
            cmd.Parameters.AddWithValue(userId);
            cmd.Parameters.AddWithValue(workspaceId);
            cmd.Parameters.AddWithValue(limit + 1);
            cmd.Parameters.AddWithValue(before);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                rows.Add((r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5)));
            }
        }
        string? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveRange(limit, rows.Count - limit);
            next = Paging.Encode(rows[^1].LastPosition.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var threads = new List<ThreadView>(rows.Count);
        foreach (var t in rows)
        {
            threads.Add(new ThreadView(t.Channel, t.Root, await HistoryStore.FindAsync(db, t.Channel, t.Root, ct),
                await HistoryStore.FindAsync(db, t.Channel, t.LastSeq, ct), t.Unread, t.Mentions));
        }
        return Results.Ok(new ThreadPage(threads, next));
    }
}
