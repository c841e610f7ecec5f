using EventSourcedChat.Projections.Unread;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.ReadModels.Channels;

/// <summary>A channel as the caller sees it, with the caller's unread and mention counts.</summary>
/// <param name="IsPrivate">True for private channels and DMs.</param>
/// <param name="Kind"><c>public</c>, <c>private</c> or <c>dm</c>. DMs have an empty name; clients name them after the members.</param>
/// <param name="UnreadCount">Top-level messages by others after the caller's read marker (or after they joined), deleted ones
/// excluded; 0 when the caller is not a member.</param>
/// <param name="MentionCount">Of those, the ones that mention the caller (<c>&lt;@id&gt;</c>, <c>@channel</c>, <c>@here</c>).</param>
public sealed record ChannelView(
    string ChannelId, string Name, bool IsPrivate, string? Topic, bool IsMember, int MemberCount,
    long UnreadCount, long MentionCount, long LastSeq, string Kind, bool Archived);

public sealed record WorkspaceView(string WorkspaceId, string Name, string Role);

/// <summary>
/// The channel list, one channel, its members and the caller's workspaces, from the directory and unread read
/// models. Everything the caller may not see answers 404 <c>not_found</c>, exactly as what does not exist (invariant 8).
/// </summary>
public static class ChannelQueries
{
    public static readonly string UnreadCheckpoint = Projection.CheckpointOf(UnreadProjection.ProjectionName);

    public static RouteGroupBuilder MapChannelQueries(this RouteGroupBuilder group)
    {
        var queries = group.MapGroup("").WaitsFor(UnreadCheckpoint, ChannelAccess.Directory);
        queries.MapGet("/workspaces", ListWorkspaces).WithName("ListWorkspaces").Produces<List<WorkspaceView>>();
        queries.MapListChannels();
        queries.MapGet("/channels/{channelId}", GetChannel).WithName("GetChannel").Produces<ChannelView>();
        queries.MapListChannelMembers();
        return group;
    }

    /// <summary>
    /// Channels with the caller's counts; $1 is the caller. The caller's baseline is the later of their read marker and the
    /// seq they joined at, so a new member does not see the history as unread. Each count is a few index probes
    /// (counter differences), plus range counts bounded by the deletions and mentions in the caller's unread window.
    /// </summary>
    internal const string ChannelSelect = """
        select c.channel_id, c.name, c.kind, c.topic, m.user_id is not null, c.member_count,
               coalesce(u.unread, 0), coalesce(u.mentions, 0), c.last_seq, c.archived
          from rm_directory.channels c
          left join rm_directory.channel_members m on m.channel_id = c.channel_id and m.user_id = $1
          left join lateral (
              select (coalesce((select cc.top_level_count from rm_unread.channel_counters cc where cc.channel_id = c.channel_id), 0)
                      - coalesce((select x.ordinal from rm_unread.channel_messages x
                                   where x.channel_id = c.channel_id and x.seq <= b.baseline order by x.seq desc limit 1), 0))
                   - (coalesce((select ac.top_level_count from rm_unread.author_counters ac
                                 where ac.channel_id = c.channel_id and ac.author_id = $1), 0)
                      - coalesce((select x.author_ordinal from rm_unread.channel_messages x
                                   where x.channel_id = c.channel_id and x.author_id = $1 and x.seq <= b.baseline
                                   order by x.seq desc limit 1), 0))
                   - (select count(*) from rm_unread.channel_messages x
                       where x.channel_id = c.channel_id and x.deleted and x.seq > b.baseline and x.author_id <> $1) as unread,
                     (select count(*) from (
                          select n.seq from rm_unread.mentions n
                           where n.user_id = $1 and n.channel_id = c.channel_id and n.seq > b.baseline
                          union
                          select x.seq from rm_unread.channel_messages x
                           where x.channel_id = c.channel_id and x.broadcast and not x.deleted
                             and x.seq > b.baseline and x.author_id <> $1) hits) as mentions
                from (select greatest(m.joined_seq, coalesce((select r.seq from rm_unread.read_markers r
                                                                 where r.user_id = $1 and r.channel_id = c.channel_id), 0)) as baseline) b
               where m.user_id is not null
          ) u on true
        """;

    private static async Task<IResult> ListWorkspaces(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var userId = QueryActor.UserId(http);
        await using var cmd = db.CreateCommand("""
            select w.workspace_id, w.name, m.role from rm_directory.workspace_members m
              join rm_directory.workspaces w on w.workspace_id = m.workspace_id
             where m.user_id = $1 order by w.name, w.workspace_id
            """);
        cmd.Parameters.AddWithValue(userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<WorkspaceView>();
        while (await r.ReadAsync(ct))
        {
            list.Add(new WorkspaceView(r.GetString(0), r.GetString(1), r.GetString(2)));
        }
        return Results.Ok(list);
    }

    private static async Task<IResult> GetChannel(string channelId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var userId = QueryActor.UserId(http);
        if (await ChannelAccess.ForAsync(db, channelId, userId, ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        var channels = await ReadChannelsAsync(db, userId, " where c.channel_id = $2", ct, channelId);
        return channels.Count == 1 ? Results.Ok(channels[0]) : QueryActor.NotFound("The channel");
    }

    /// <summary>The channels <see cref="ChannelSelect"/> and <paramref name="where"/> give; $1 is the caller, $2.. the arguments.</summary>
    internal static async Task<List<ChannelView>> ReadChannelsAsync(
        NpgsqlDataSource db, string userId, string where, CancellationToken ct, params object[] arguments)
    {
        await using var cmd = db.CreateCommand(ChannelSelect + where);
        cmd.Parameters.AddWithValue(userId);
        foreach (var argument in arguments)
        {
            cmd.Parameters.AddWithValue(argument);
        }
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<ChannelView>();
        while (await r.ReadAsync(ct))
        {
            var kind = r.GetString(2);
            list.Add(new ChannelView(
                ChannelId: r.GetString(0), Name: r.GetString(1), IsPrivate: kind != "public",
                Topic: r.IsDBNull(3) ? null : r.GetString(3), IsMember: r.GetBoolean(4), MemberCount: r.GetInt32(5),
                UnreadCount: r.GetInt64(6), MentionCount: r.GetInt64(7), LastSeq: r.GetInt64(8), Kind: kind, Archived: r.GetBoolean(9)));
        }
        return list;
    }
}
