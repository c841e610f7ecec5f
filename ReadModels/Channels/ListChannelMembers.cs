using EventSourcedChat.Projections.Profiles;
using EventSourcedChat.ReadModels.Profiles;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.ReadModels.Channels;

/// <summary>A channel member: <c>{userId, displayName, presence}</c> (API.md), and whether the account is deactivated.</summary>
/// <param name="Presence"><c>active</c>, <c>away</c> or <c>offline</c> from the presence store (Redis); <c>unknown</c> while it does not answer.</param>
/// <param name="Deactivated">An instance administrator deactivated the account (profiles projection).</param>
/// <param name="AvatarUrls">The avatar's signed URLs by size in pixels (<c>"32"</c>, <c>"72"</c>, <c>"192"</c>, <c>"512"</c>); null without an avatar.</param>
public sealed record MemberView(string UserId, string DisplayName, string Presence, bool Deactivated = false, IReadOnlyDictionary<string, string>? AvatarUrls = null);

/// <summary>
/// <c>GET /v1/channels/{channelId}/members?limit=&amp;cursor=</c>: the channel's members by display name, then id, with
/// their presence (one Redis read per page); paged as <see cref="Paging"/> says (the cursor is the last member's sort key).
/// </summary>
public static class ListChannelMembers
{
    private const string Select = """
        select u.user_id, u.display_name, coalesce(p.deactivated, false), p.avatar::text from rm_directory.channel_members m
          join rm_directory.users u on u.user_id = m.user_id
          left join rm_profiles.profiles p on p.user_id = m.user_id
         where m.channel_id = $1
        """;
    private const string After = " and (u.display_name, u.user_id) > ($3, $4)";
    private const string Order = " order by u.display_name, u.user_id limit $2";

    public static RouteGroupBuilder MapListChannelMembers(this RouteGroupBuilder group)
    {
        // The deactivated flag is the profiles projection's: a read-your-writes wait covers it too.
        group.MapGet("/channels/{channelId}/members", HandleAsync).WithName("ListChannelMembers").Produces<List<MemberView>>()
            .WaitsFor(ProfileProjection.Checkpoint);
        return group;
    }

    private static async Task<IResult> HandleAsync(
        string channelId, HttpContext http, NpgsqlDataSource db, IPresenceReader presence, AvatarLinks avatars, CancellationToken ct)
    {
        if (!Paging.TryRead(http, 2, out var limit, out var after, out var error))
        {
            return QueryActor.Invalid(error);
        }
        if (await ChannelAccess.ForAsync(db, channelId, QueryActor.UserId(http), ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        await using var cmd = db.CreateCommand(Select + (after is null ? "" : After) + Order);
        cmd.Parameters.AddWithValue(channelId);
        cmd.Parameters.AddWithValue(limit + 1);
        if (after is [var name, var id])
        {
            cmd.Parameters.AddWithValue(name);
            cmd.Parameters.AddWithValue(id);
        }
        var members = new List<(string UserId, string DisplayName, bool Deactivated, string? Avatar)>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                members.Add((r.GetString(0), r.GetString(1), r.GetBoolean(2), r.IsDBNull(3) ? null : r.GetString(3)));
            }
        }
        if (members.Count > limit)
        {
            members.RemoveRange(limit, members.Count - limit);
            Paging.SetNext(http, Paging.Encode(members[^1].DisplayName, members[^1].UserId));
        }
        var statuses = await presence.ReadAsync(members.Select(m => m.UserId).ToList());
        return Results.Ok(members.Select(m => new MemberView(m.UserId, m.DisplayName, statuses[m.UserId], m.Deactivated, avatars.UrlsOf(m.Avatar))).ToList());
    }
}
