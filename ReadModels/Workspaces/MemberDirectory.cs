using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Projections.Profiles;
using EventSourcedChat.ReadModels.Profiles;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.ReadModels.Workspaces;

/// <summary>A member in the workspace's directory: profile, role and presence.</summary>
/// <param name="AvatarUrl">The avatar's signed URL at 192 px, null without one (as in the profile).</param>
/// <param name="AvatarUrls">The avatar's signed URLs by size in pixels; null without an avatar.</param>
/// <param name="Presence"><c>active</c>, <c>away</c> or <c>offline</c> (Redis); <c>unknown</c> while it does not answer.</param>
public sealed record DirectoryMember(
    string UserId, string DisplayName, string? Title, string? AvatarUrl, string Role, string Presence, IReadOnlyDictionary<string, string>? AvatarUrls = null);

/// <param name="NextCursor">Give it as <c>?cursor=</c> for the next page; null on the last page.</param>
public sealed record DirectoryPage(IReadOnlyList<DirectoryMember> Members, string? NextCursor);

/// <summary>
/// <c>GET /v1/workspaces/{workspaceId}/members?q=&amp;cursor=&amp;limit=</c>: the workspace's members by display name, then id,
/// for anyone in the workspace (anyone else 404); <c>q</c> (or <c>query</c>) keeps those whose display name contains it,
/// without regard to case. From the directory (members, roles, names) and profiles (titles) read models, presence from
/// Redis (one read per page). Keyset pages: the cursor is the last member's sort key.
/// </summary>
public static class MemberDirectory
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;
    public const int MaxQueryLength = 80;

    public static RouteGroupBuilder MapMemberDirectory(this RouteGroupBuilder group)
    {
        group.MapGroup("").WaitsFor(ChannelAccess.Directory, ProfileProjection.Checkpoint)
            .MapGet("/workspaces/{workspaceId}/members", HandleAsync).WithName("ListWorkspaceMembers").Produces<DirectoryPage>();
        return group;
    }

    private static async Task<IResult> HandleAsync(
        string workspaceId, HttpContext http, NpgsqlDataSource db, IPresenceReader presence, AvatarLinks avatars, CancellationToken ct)
    {
        if (!Paging.TryLimit(http, DefaultLimit, MaxLimit, out var limit))
        {
            return QueryActor.Invalid($"limit is an integer from 1 to {MaxLimit}.");
        }
        if (!Paging.TryCursor(http, 2, out var after))
        {
            return QueryActor.Invalid("cursor is not one this API gave out: pass the previous page's nextCursor unchanged.");
        }
        var queries = http.Request.Query["q"].Concat(http.Request.Query["query"]).ToList();
        if (queries.Count > 1 || queries is [{ } raw] && (raw.Trim().Length > MaxQueryLength || raw.Any(char.IsControl)))
        {
            return QueryActor.Invalid($"q is at most {MaxQueryLength} printable characters, given once.");
        }
        var search = queries is [{ } given] && given.Trim().Length > 0 ? given.Trim() : null;
        if (await WorkspaceMembership.RoleOfAsync(db, workspaceId, QueryActor.UserId(http), ct) is null)
        {
            return QueryActor.NotFound("The workspace");
        }
        await using var cmd = db.CreateCommand($"""
            select u.user_id, u.display_name, p.title, m.role, p.avatar::text
              from rm_directory.workspace_members m
              join rm_directory.users u on u.user_id = m.user_id
              left join rm_profiles.profiles p on p.user_id = m.user_id
             where m.workspace_id = $1
               and ($3::text is null or strpos(lower(u.display_name), lower($3::text)) > 0)
               {(after is null ? "" : "and (u.display_name, u.user_id) > ($4, $5)")}
             order by u.display_name, u.user_id limit $2
            """);
        cmd.Parameters.AddWithValue(workspaceId);
        cmd.Parameters.AddWithValue(limit + 1);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)search ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        if (after is [var name, var id])
        {
            cmd.Parameters.AddWithValue(name);
            cmd.Parameters.AddWithValue(id);
        }
        var members = new List<DirectoryMember>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var urls = avatars.UrlsOf(r.IsDBNull(4) ? null : r.GetString(4));
                members.Add(new DirectoryMember(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), Avatars.DefaultOf(urls), r.GetString(3),
                    NoPresence.Unknown, urls));
            }
        }
        string? next = null;
        if (members.Count > limit)
        {
            members.RemoveRange(limit, members.Count - limit);
            next = Paging.Encode(members[^1].DisplayName, members[^1].UserId);
        }
        var statuses = await presence.ReadAsync(members.Select(m => m.UserId).ToList());
        return Results.Ok(new DirectoryPage([.. members.Select(m => m with { Presence = statuses[m.UserId] })], next));
    }
}
