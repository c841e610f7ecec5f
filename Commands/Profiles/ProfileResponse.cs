using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Contracts.Profiles;

namespace EventSourcedChat.Commands.Profiles;

/// <summary>
/// What a profile command answers: the caller's profile after it (from the write side's fold, never a read model),
/// as <c>GET /v1/users/me</c> shows it once the read model has it, and the command's <c>position</c>.
/// </summary>
/// <param name="AvatarUrl">The avatar's signed URL at <see cref="Avatars.DefaultSize"/> px; null without an avatar.</param>
/// <param name="AvatarUrls">The avatar's signed URLs by size (<c>"32"</c>, <c>"72"</c>, <c>"192"</c>, <c>"512"</c>); null without an avatar.</param>
public sealed record ProfileResponse(
    string UserId, string DisplayName, string? Title, string? TimeZone, string? AvatarUrl, StatusView? Status, long Position,
    IReadOnlyDictionary<string, string>? AvatarUrls = null)
{
    public static ProfileResponse Of(UserState user, DateTimeOffset now, long position, IReadOnlyDictionary<string, string>? avatarUrls = null) =>
        new(user.UserId, user.DisplayName, user.Title, user.TimeZone, Avatars.DefaultOf(avatarUrls),
            user.StatusAt(now) is { } s ? new StatusView(s.Emoji, s.Text, s.ExpiresAt) : null, position, avatarUrls);
}
