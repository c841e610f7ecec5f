using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.Projections.Profiles;

/// <summary>
/// People's profiles: one row per user with the display name, title, time zone, the custom status as last set, the
/// avatar (<c>{fileId, sha256, images}</c>: object ids, signed into URLs when read) and
/// whether an instance administrator deactivated the account
/// (<c>rm_profiles.profiles</c>). An expired status stays in the row: queries read it as none past
/// <c>status_expires_at</c>, so an expiry costs no write (docs/profiles.md). Plain tables, not Marten documents: the
/// figures and the reason are in docs/architecture.md ("Profiles: plain tables, not Marten").
/// </summary>
public sealed class ProfileProjection : Projection
{
    public const string ProjectionName = "profiles";

    /// <summary>The checkpoint that queries reading <c>rm_profiles</c> wait for.</summary>
    public static readonly string Checkpoint = CheckpointOf(ProjectionName);

    public override string Name => ProjectionName;

    public override string CreateSql => """
        create table if not exists profiles (
            user_id text primary key, display_name text not null, title text, time_zone text,
            status_emoji text, status_text text, status_expires_at timestamptz, updated_at timestamptz not null);
        alter table profiles add column if not exists deactivated boolean not null default false;
        alter table profiles add column if not exists avatar jsonb;
        """;

    public ProfileProjection()
    {
        On<UserRegistered>((e, c) => c.Sql(
            "insert into profiles (user_id, display_name, updated_at) values ($1, $2, $3) on conflict (user_id) do nothing",
            e.UserId, e.DisplayName, c.At));
        On<UserProfileUpdated>((e, c) => c.Sql(
            "update profiles set display_name = $2, title = $3, time_zone = $4, updated_at = $5 where user_id = $1",
            e.UserId, e.DisplayName, e.Title, e.TimeZone, c.At));
        On<UserStatusSet>((e, c) => c.Sql(
            "update profiles set status_emoji = $2, status_text = $3, status_expires_at = $4, updated_at = $5 where user_id = $1",
            e.UserId, e.Emoji, e.Text, e.ExpiresAt, c.At));
        On<UserAvatarSet>((e, c) => c.Sql(
            "update profiles set avatar = $2::jsonb, updated_at = $3 where user_id = $1",
            e.UserId, JsonSerializer.Serialize(new AvatarFacts(e.FileId, e.Sha256, e.Images), EventTypes.Json), c.At));
        On<UserAvatarRemoved>((e, c) => c.Sql(
            "update profiles set avatar = null, updated_at = $2 where user_id = $1", e.UserId, c.At));
        On<UserDeactivated>((e, c) => c.Sql(
            "update profiles set deactivated = true, updated_at = $2 where user_id = $1", e.UserId, c.At));
        On<UserReactivated>((e, c) => c.Sql(
            "update profiles set deactivated = false, updated_at = $2 where user_id = $1", e.UserId, c.At));
        On<UserStatusCleared>((e, c) => c.Sql(
            "update profiles set status_emoji = null, status_text = null, status_expires_at = null, updated_at = $2 where user_id = $1",
            e.UserId, c.At));
    }
}
