using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Messages;

namespace EventSourcedChat.Commands.Profiles;

/// <summary>What a profile and a status may hold (docs/profiles.md). Every rule answers 400 <c>invalid_request</c>.</summary>
public static class ProfileRules
{
    public const int MaxTitleLength = 100;
    public const int MaxStatusTextLength = 100;

    /// <summary>The farthest a status may be set to expire.</summary>
    public static readonly TimeSpan MaxStatusDuration = TimeSpan.FromDays(366);

    /// <summary>A display name as registration takes it: 1 to 80 printable characters, trimmed.</summary>
    public static string DisplayName(string displayName)
    {
        var trimmed = displayName.Trim();
        return trimmed.Length is > 0 and <= RegisterEndpoint.MaxDisplayNameLength && !trimmed.Any(char.IsControl)
            ? trimmed
            : throw CommandRejected.Invalid($"A display name has 1 to {RegisterEndpoint.MaxDisplayNameLength} printable characters.");
    }

    /// <summary>A title of up to 100 printable characters; empty clears it (null).</summary>
    public static string? Title(string title) => Printable(title, MaxTitleLength, "A title")
        is { Length: > 0 } t ? t : null;

    /// <summary>An IANA time zone id this server knows (<c>Europe/Paris</c>); empty clears it (null).</summary>
    public static string? TimeZone(string timeZone)
    {
        var id = timeZone.Trim();
        if (id.Length == 0)
        {
            return null;
        }
        return id.Length <= 64 && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) && zone.HasIanaId
            ? zone.Id
            : throw CommandRejected.Invalid($"'{Cut(id)}' is not an IANA time zone id (such as Europe/Paris).");
    }

    /// <summary>A status: an emoji (as reactions take them) or none, a text of up to 100 characters, not both empty, and an expiry in the future.</summary>
    public static UserStatus Status(string? emoji, string? text, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        var e = string.IsNullOrEmpty(emoji) ? "" : MessageRules.ValidEmoji(emoji);
        var t = Printable(text ?? "", MaxStatusTextLength, "A status text");
        if (e.Length == 0 && t.Length == 0)
        {
            throw CommandRejected.Invalid("A status has an emoji, a text, or both.");
        }
        if (expiresAt is { } at && at <= now)
        {
            throw CommandRejected.Invalid("expiresAt is in the past: a status expires in the future.");
        }
        if (expiresAt is { } far && far - now > MaxStatusDuration)
        {
            throw CommandRejected.Invalid($"expiresAt is at most {MaxStatusDuration.TotalDays} days ahead.");
        }
        return new UserStatus(e, t, expiresAt?.ToUniversalTime());
    }

    private static string Printable(string value, int max, string what)
    {
        var trimmed = value.Trim();
        return trimmed.Length <= max && !trimmed.Any(char.IsControl)
            ? trimmed
            : throw CommandRejected.Invalid($"{what} has at most {max} printable characters.");
    }

    private static string Cut(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
