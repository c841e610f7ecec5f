using EventSourcedChat.ReadModels.Profiles;
using Npgsql;

namespace EventSourcedChat.ReadModels.History;

/// <summary>
/// An author of the messages of a page: display name and avatar URLs by size (<c>"32"</c>, ...; null without an avatar,
/// and for someone no longer in the channel's workspace: avatars go to people sharing a workspace only).
/// </summary>
public sealed record AuthorView(string UserId, string DisplayName, IReadOnlyDictionary<string, string>? AvatarUrls);

/// <summary>The authors of a page of messages, once each, from the directory and profiles read models.</summary>
public static class MessageAuthors
{
    public static async Task<IReadOnlyList<AuthorView>> OfAsync(
        NpgsqlDataSource db, string channelId, IEnumerable<MessageView> messages, AvatarLinks avatars, CancellationToken ct)
    {
        var ids = messages.Select(m => m.UserId).Distinct().ToArray();
        if (ids.Length == 0)
        {
            return [];
        }
        await using var cmd = db.CreateCommand("""
            select u.user_id, coalesce(p.display_name, u.display_name),
                   case when exists (select 1 from rm_directory.channels c
                                       join rm_directory.workspace_members m on m.workspace_id = c.workspace_id and m.user_id = u.user_id
                                      where c.channel_id = $2) then p.avatar::text end
              from rm_directory.users u
              left join rm_profiles.profiles p on p.user_id = u.user_id
             where u.user_id = any ($1)
             order by u.user_id
            """);
        cmd.Parameters.AddWithValue(ids);
        cmd.Parameters.AddWithValue(channelId);
        var authors = new List<AuthorView>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            authors.Add(new AuthorView(r.GetString(0), r.GetString(1), avatars.UrlsOf(r.IsDBNull(2) ? null : r.GetString(2))));
        }
        return authors;
    }
}
