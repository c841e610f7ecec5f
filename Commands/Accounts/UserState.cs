using System.Collections.Immutable;
using EventSourcedChat.Commands.Notifications;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>A custom status as set; past <see cref="ExpiresAt"/> it reads as none (<see cref="UserState.StatusAt"/>).</summary>
public sealed record UserStatus(string Emoji, string Text, DateTimeOffset? ExpiresAt)
{
    public bool LiveAt(DateTimeOffset now) => ExpiresAt is not { } at || at > now;
}

/// <summary>
/// A user stream folded by <see cref="Evolve"/>. A state loaded from the write side (<see cref="UserWriteSide"/>) holds
/// only what a command names: the read markers it moves, the profile, or the account (password and pending reset).
/// </summary>
/// <param name="ReadMarkers">The last read seq, by channel id.</param>
/// <param name="Title">The profile's title; null for none.</param>
/// <param name="TimeZone">An IANA time zone id; null for none.</param>
/// <param name="Status">The custom status as last set (it may have expired since: see <see cref="StatusAt"/>).</param>
public sealed record UserState(
    string UserId, string Email, string DisplayName, long Version, ImmutableDictionary<string, long> ReadMarkers,
    string? Title = null, string? TimeZone = null, UserStatus? Status = null)
{
    public static UserState Initial { get; } = new("", "", "", 0, ImmutableDictionary<string, long>.Empty);

    /// <summary>The current password's hash (ASP.NET Core Identity's format).</summary>
    public string PasswordHash { get; init; } = "";

    /// <summary>The reset link mailed last and not used yet, or null.</summary>
    public PendingReset? Reset { get; init; }

    /// <summary>Mail notification preferences (<see cref="NotificationPreferencesSet"/>).</summary>
    public NotificationPreferences Notifications { get; init; } = NotificationPreferences.Default;

    /// <summary>Per-channel notification settings set by the person, by channel id (others are the default).</summary>
    public ImmutableDictionary<string, ChannelNotificationSetting> ChannelNotifications { get; init; } =
        ImmutableDictionary<string, ChannelNotificationSetting>.Empty;

    /// <summary>Threads the person followed (true) or unfollowed (false) by hand, by channel id and root seq.</summary>
    public ImmutableDictionary<(string ChannelId, long RootSeq), bool> FollowedThreads { get; init; } =
        ImmutableDictionary<(string ChannelId, long RootSeq), bool>.Empty;
    /// <summary>The avatar: its source file, hash and stored sizes; null for none (initials show).</summary>
    public AvatarFacts? Avatar { get; init; }

    /// <summary>Deactivated by an instance administrator: signing in is refused until reactivated.</summary>
    public bool Deactivated { get; init; }

    public bool Exists => Version > 0;

    public long ReadMarkerOf(string channelId) => ReadMarkers.GetValueOrDefault(channelId);

    /// <summary>The status as read at <paramref name="now"/>: none once expired (no event is appended for the expiry).</summary>
    public UserStatus? StatusAt(DateTimeOffset now) => Status is { } s && s.LiveAt(now) ? s : null;

    public static UserState Evolve(UserState state, object @event)
    {
        var s = state with { Version = state.Version + 1 };
        return @event switch
        {
            UserRegistered r => s with { UserId = r.UserId, Email = r.Email, DisplayName = r.DisplayName, PasswordHash = r.PasswordHash },
            ReadMarkerMoved m => s with { ReadMarkers = s.ReadMarkers.SetItem(m.ChannelId, m.Seq) },
            UserProfileUpdated p => s with { DisplayName = p.DisplayName, Title = p.Title, TimeZone = p.TimeZone },
            UserStatusSet st => s with { Status = new UserStatus(st.Emoji, st.Text, st.ExpiresAt) },
            UserStatusCleared => s with { Status = null },
            UserAvatarSet a => s with { Avatar = new AvatarFacts(a.FileId, a.Sha256, a.Images) },
            UserAvatarRemoved => s with { Avatar = null },
            PasswordChanged c => s with { PasswordHash = c.PasswordHash, Reset = null },
            PasswordResetRequested r => s with { Reset = new PendingReset(r.TokenHash, r.RequestedAt, r.ExpiresAt) },
            NotificationPreferencesSet n => s with { Notifications = NotificationPreferences.Of(n) },
            ChannelNotificationsSet c => s with { ChannelNotifications = s.ChannelNotifications.SetItem(c.ChannelId, new(c.Level, c.Muted)) },
            ThreadFollowed f => s with { FollowedThreads = s.FollowedThreads.SetItem((f.ChannelId, f.RootSeq), true) },
            ThreadUnfollowed u => s with { FollowedThreads = s.FollowedThreads.SetItem((u.ChannelId, u.RootSeq), false) },
            UserDeactivated => s with { Deactivated = true },
            UserReactivated => s with { Deactivated = false },
            _ => throw new UnknownEventException("user", @event),
        };
    }
}

/// <summary>A mailed reset link: the hash of its secret, when it was asked for, until when it works.</summary>
public sealed record PendingReset(string TokenHash, DateTimeOffset RequestedAt, DateTimeOffset ExpiresAt);
