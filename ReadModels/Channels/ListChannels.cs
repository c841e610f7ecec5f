using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.ReadModels.Channels;

/// <summary>
/// <c>GET /v1/workspaces/{workspaceId}/channels?limit=&amp;cursor=</c>: the public channels of the workspace plus the
/// caller's private channels and DMs, by kind (DMs last), then name, then id; paged as <see cref="Paging"/> says (the
/// cursor is the last channel's sort key).
/// </summary>
public static class ListChannels
{
    private const string InWorkspace = " where c.workspace_id = $2 and (c.kind = 'public' or m.user_id is not null)";
    private const string Order = " order by c.kind = 'dm', c.name, c.channel_id limit $3";
    private const string After = " and (c.kind = 'dm', c.name, c.channel_id) > ($4, $5, $6)";

    public static RouteGroupBuilder MapListChannels(this RouteGroupBuilder group)
    {
        group.MapGet("/workspaces/{workspaceId}/channels", HandleAsync).WithName("ListChannels").Produces<List<ChannelView>>();
        return group;
    }

    private static async Task<IResult> HandleAsync(string workspaceId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Paging.TryRead(http, 3, out var limit, out var after, out var error) || after is [not ("0" or "1"), ..])
        {
            return QueryActor.Invalid(error is "" ? "cursor is not one this API gave out." : error);
        }
        var userId = QueryActor.UserId(http);
        await using (var member = db.CreateCommand(
            "select exists (select 1 from rm_directory.workspace_members where workspace_id = $1 and user_id = $2)"))
        {
            member.Parameters.AddWithValue(workspaceId);
            member.Parameters.AddWithValue(userId);
            if (!(bool)(await member.ExecuteScalarAsync(ct))!)
            {
                return QueryActor.NotFound("The workspace");
            }
        }
        var channels = after is [var dm, var name, var id]
            ? await ChannelQueries.ReadChannelsAsync(db, userId, InWorkspace + After + Order, ct, workspaceId, limit + 1, dm == "1", name, id)
            : await ChannelQueries.ReadChannelsAsync(db, userId, InWorkspace + Order, ct, workspaceId, limit + 1);
        if (channels.Count > limit)
        {
            channels.RemoveRange(limit, channels.Count - limit);
            var last = channels[^1];
            Paging.SetNext(http, Paging.Encode(last.Kind == "dm" ? "1" : "0", last.Name, last.ChannelId));
        }
        return Results.Ok(channels);
    }
}
