using EventSourcedChat.Commands.Accounts;

namespace EventSourcedChat.Tests.WriteSide;

/// <summary>A user's title, time zone, status as set and deactivation, written the same way from the fold and from a table's columns.</summary>
internal static class ProfileFacts
{
    public static string Of(UserState u) =>
        $"title={u.Title ?? "-"} tz={u.TimeZone ?? "-"} status=" +
        (u.Status is { } s ? $"{s.Emoji}/{s.Text}/{s.ExpiresAt?.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""}" : "-") +
        (u.Deactivated ? " deactivated" : "");

    /// <summary>The same from columns <c>title</c>, <c>time_zone</c>, <c>status_emoji</c>, <c>status_text</c>, <c>status_expires_at</c>, <c>deactivated</c>.</summary>
    public const string Sql = """
        'title=' || coalesce(title, '-') || ' tz=' || coalesce(time_zone, '-') || ' status=' ||
        case when status_emoji is null then '-'
             else status_emoji || '/' || status_text || '/' || coalesce(extract(epoch from status_expires_at)::bigint::text, '') end ||
        case when deactivated then ' deactivated' else '' end
        """;
}
