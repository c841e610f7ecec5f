using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Contracts.Profiles;
using EventSourcedChat.Projections.Profiles;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.ReadModels.Profiles;

/// <summary>A person as others see them: the profile (<c>rm_profiles</c>) and presence.</summary>
/// <param name="AvatarUrl">The avatar's signed URL at 192 px; null without an avatar.</param>
/// <param name="Presence"><c>active</c>, <c>away</c> or <c>offline</c> from the presence store (Redis); <c>unknown</c> while it does not answer.</param>
/// <param name="Deactivated">An instance administrator deactivated the account (what they wrote stays; they cannot sign in).</param>
/// <param name="AvatarUrls">The avatar's signed URLs by size in pixels (<c>"32"</c>, <c>"72"</c>, <c>"192"</c>, <c>"512"</c>); null without an avatar.</param>
public sealed record UserView(
    string UserId, string DisplayName, string? Title, string? TimeZone, string? AvatarUrl, StatusView? Status, string Presence,
    bool Deactivated = false, IReadOnlyDictionary<string, string>? AvatarUrls = null);

/// <summary>
/// <c>GET /v1/users/{id}</c> and <c>GET /v1/users/me</c>: a user is visible to themselves and to whoever shares a
/// workspace with them (the directory projection); anyone else is 404, as one that does not exist. A status past its
/// expiry is left out here, at read time (nothing is written when it expires).
/// </summary>
public static class ProfileQueries
{
    public static RouteGroupBuilder MapProfileQueries(this RouteGroupBuilder group)
    {
        var queries = group.MapGroup("").WaitsFor(ProfileProjection.Checkpoint, ChannelAccess.Directory);
        queries.MapGet("/users/me", GetMe).WithName("GetMyProfile").Produces<UserView>();
        queries.MapGet("/users/{userId}", GetUser).WithName("GetUser").Produces<UserView>();
        return group;
    }

    private static Task<IResult> GetMe(HttpContext http, NpgsqlDataSource db, IPresenceReader presence, TimeProvider clock, AvatarLinks avatars, CancellationToken ct) =>
        GetUser(QueryActor.UserId(http), http, db, presence, clock, avatars, ct);

    private static async Task<IResult> GetUser(
        string userId, HttpContext http, NpgsqlDataSource db, IPresenceReader presence, TimeProvider clock, AvatarLinks avatars, CancellationToken ct)
    {
        var caller = QueryActor.UserId(http);
        await using var cmd = db.CreateCommand("""
            select coalesce(p.display_name, u.display_name), p.title, p.time_zone,
                   p.status_emoji, p.status_text, p.status_expires_at, coalesce(p.deactivated, false), p.avatar::text
              from rm_directory.users u
              left join rm_profiles.profiles p on p.user_id = u.user_id
             where u.user_id = $1
               and ($1 = $2 or exists (
                   select 1 from rm_directory.workspace_members theirs
                     join rm_directory.workspace_members mine on mine.workspace_id = theirs.workspace_id and mine.user_id = $2
                    where theirs.user_id = $1))
            """);
        cmd.Parameters.AddWithValue(userId);
        cmd.Parameters.AddWithValue(caller);
        var now = clock.GetUtcNow();
        UserView view;
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            if (!await r.ReadAsync(ct))
            {
                return QueryActor.NotFound("The user");
            }
            string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
            DateTimeOffset? expiresAt = r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5);
            var status = Text(3) is { } emoji && (expiresAt is null || expiresAt > now)
                ? new StatusView(emoji, Text(4) ?? "", expiresAt)
                : null;
            var urls = avatars.UrlsOf(Text(7));
            view = new UserView(userId, r.GetString(0), Text(1), Text(2), Avatars.DefaultOf(urls), status, NoPresence.Unknown, r.GetBoolean(6), urls);
        }
        var statuses = await presence.ReadAsync([userId]);
        return Results.Ok(view with { Presence = statuses[userId] });
    }
}
