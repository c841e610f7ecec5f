using EventSourcedChat.Commands.Accounts;

namespace EventSourcedChat.Tests.WriteSide;

/// <summary>A user's title, time zone, status as set, deactivation and avatar, written the same way from the fold and from a table's columns.</summary>
internal static class ProfileFacts
{
    public static string Of(UserState u) =>
        $"title={u.Title ?? "-"} tz={u.TimeZone ?? "-"} status=" +
        (u.Status is { } s ? $"{s.Emoji}/{s.Text}/{s.ExpiresAt?.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""}" : "-") +
        (u.Deactivated ? " deactivated" : "") +
        (u.Avatar is { } a ? $" avatar={a.FileId}/{a.Sha256}/{string.Join(',', a.Images.Select(i => $"{i.Size}:{i.ObjectId}"))}" : "");

    /// <summary>The same from columns <c>title</c>, <c>time_zone</c>, <c>status_emoji</c>, <c>status_text</c>, <c>status_expires_at</c>, <c>deactivated</c>, <c>avatar</c>.</summary>
    public const string Sql = """
        'title=' || coalesce(title, '-') || ' tz=' || coalesce(time_zone, '-') || ' status=' ||
        case when status_emoji is null then '-'
             else status_emoji || '/' || status_text || '/' || coalesce(extract(epoch from status_expires_at)::bigint::text, '') end ||
        case when deactivated then ' deactivated' else '' end ||
        case when avatar is null then ''
             else ' avatar=' || (avatar->>'fileId') || '/' || (avatar->>'sha256') || '/' ||
                  coalesce((select string_agg((i->>'size') || ':' || (i->>'objectId'), ',' order by n)
                              from jsonb_array_elements(avatar->'images') with ordinality as x(i, n)), '') end
        """;
}
