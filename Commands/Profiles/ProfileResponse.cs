using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Contracts.Profiles;

namespace EventSourcedChat.Commands.Profiles;

/// <summary>
/// What a profile command answers: the caller's profile after it (from the write side's fold, never a read model),
/// as <c>GET /v1/users/me</c> shows it once the read model has it, and the command's <c>position</c>.
/// </summary>
/// <param name="AvatarUrl">Always null: avatars need the file store (a later change fills it).</param>
public sealed record ProfileResponse(
    string UserId, string DisplayName, string? Title, string? TimeZone, string? AvatarUrl, StatusView? Status, long Position)
{
    public static ProfileResponse Of(UserState user, DateTimeOffset now, long position) =>
        new(user.UserId, user.DisplayName, user.Title, user.TimeZone, null,
            user.StatusAt(now) is { } s ? new StatusView(s.Emoji, s.Text, s.ExpiresAt) : null, position);
}
