using System.Globalization;
using System.Text.Json;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Profiles;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>
/// A change to one's mail notification preferences (<c>PATCH /v1/users/me/notifications</c>): a field left out stays
/// as it is; <c>dnd</c> or <c>snoozeUntil</c> given as null clears it.
/// </summary>
public sealed record NotificationPatch(bool? Email, int? DigestMinutes, Optional<DndWindow?> Dnd, Optional<DateTimeOffset?> SnoozeUntil);

/// <summary>A daily do-not-disturb window: local times <c>HH:mm</c> in an IANA time zone (it may span midnight).</summary>
public sealed record DndWindow(string From, string To, string TimeZone);

/// <summary>A field of a patch: whether it was given, and its value (null clears).</summary>
public readonly record struct Optional<T>(bool Given, T Value)
{
    public static Optional<T> Absent => default;
}

/// <summary>The preferences as the API shows them.</summary>
public sealed record NotificationPreferencesView(bool Email, int DigestMinutes, DndWindow? Dnd, DateTimeOffset? SnoozeUntil, long Position)
{
    public static NotificationPreferencesView Of(NotificationPreferences p, long position) =>
        new(p.Email, p.DigestMinutes, p.DndFrom is { } from ? new DndWindow(from, p.DndTo!, p.DndTimeZone!) : null, p.SnoozeUntil, position);
}

/// <summary>One channel's setting as <c>PUT /v1/channels/{ch}/notifications</c> made it.</summary>
public sealed record ChannelNotificationView(string ChannelId, string Level, bool Muted);

/// <summary>
/// What <c>GET /v1/users/me/notifications</c> answers: the preferences and the caller's setting of every channel they set
/// one for (a channel never set is <c>mentions</c>, not muted).
/// </summary>
public sealed record NotificationSettingsView(
    bool Email, int DigestMinutes, DndWindow? Dnd, DateTimeOffset? SnoozeUntil, IReadOnlyList<ChannelNotificationView> Channels, long Position);

public static class NotificationPreferencesEndpoint
{
    public const int MaxDigestMinutes = 24 * 60;

    /// <summary>The preferences after the patch as one event, or null when nothing changes (idempotent).</summary>
    public static NotificationPreferencesSet? Decide(UserState user, NotificationPatch patch, string via = "settings")
    {
        if (!user.Exists)
        {
            throw CommandRejected.NotFound("The user");
        }
        var current = user.Notifications;
        if (patch.DigestMinutes is < 0 or > MaxDigestMinutes)
        {
            throw CommandRejected.Invalid($"digestMinutes is 0 (the server's default) to {MaxDigestMinutes}.");
        }
        var dnd = patch.Dnd.Given
            ? patch.Dnd.Value is { } w ? Valid(w) : null
            : current.DndFrom is { } f ? new DndWindow(f, current.DndTo!, current.DndTimeZone!) : null;
        var next = new NotificationPreferences(
            patch.Email ?? current.Email, patch.DigestMinutes ?? current.DigestMinutes, dnd?.From, dnd?.To, dnd?.TimeZone,
            patch.SnoozeUntil.Given ? patch.SnoozeUntil.Value : current.SnoozeUntil);
        return next == current
            ? null
            : new NotificationPreferencesSet(user.UserId, next.Email, next.DigestMinutes, next.DndFrom, next.DndTo, next.DndTimeZone, next.SnoozeUntil, via);
    }

    private static DndWindow Valid(DndWindow w)
    {
        static string Time(string? t) => TimeOnly.TryParseExact(t, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var v)
            ? v.ToString("HH:mm", CultureInfo.InvariantCulture)
            : throw CommandRejected.Invalid("dnd.from and dnd.to are local times HH:mm.");
        var zone = string.IsNullOrWhiteSpace(w.TimeZone) ? null : ProfileRules.TimeZone(w.TimeZone);
        return new DndWindow(Time(w.From), Time(w.To), zone ?? throw CommandRejected.Invalid("dnd.timeZone is an IANA time zone id."));
    }

    /// <summary>Reads a patch from the request body; anything but the documented fields and types is 400.</summary>
    public static NotificationPatch Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw CommandRejected.Invalid("The body is a JSON object.");
        }
        bool? email = null;
        int? digest = null;
        var dnd = Optional<DndWindow?>.Absent;
        var snooze = Optional<DateTimeOffset?>.Absent;
        foreach (var p in body.EnumerateObject())
        {
            switch (p.Name)
            {
                case "email" when p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    email = p.Value.GetBoolean();
                    break;
                case "digestMinutes" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var m):
                    digest = m;
                    break;
                case "dnd" when p.Value.ValueKind == JsonValueKind.Null:
                    dnd = new(true, null);
                    break;
                case "dnd" when p.Value.ValueKind == JsonValueKind.Object:
                    dnd = new(true, new DndWindow(Text(p.Value, "from"), Text(p.Value, "to"), Text(p.Value, "timeZone")));
                    break;
                case "snoozeUntil" when p.Value.ValueKind == JsonValueKind.Null:
                    snooze = new(true, null);
                    break;
                case "snoozeUntil" when p.Value.ValueKind == JsonValueKind.String && p.Value.TryGetDateTimeOffset(out var until):
                    snooze = new(true, until.ToUniversalTime());
                    break;
                default:
                    throw CommandRejected.Invalid($"'{p.Name}' is not a preference or has the wrong type (email: bool, digestMinutes: int, dnd: {{from, to, timeZone}} or null, snoozeUntil: ISO 8601 or null).");
            }
        }
        return new NotificationPatch(email, digest, dnd, snooze);
    }

    private static string Text(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw CommandRejected.Invalid($"dnd.{name} is a string.");

    public static RouteGroupBuilder MapNotificationPreferences(this RouteGroupBuilder group)
    {
        group.MapGet("/users/me/notifications", Get).WithName("GetNotificationPreferences");
        group.MapPatch("/users/me/notifications", Patch).WithName("SetNotificationPreferences");
        return group;
    }

    /// <summary>
    /// The caller's preferences from the write side (a per-person record the commands keep; no read model holds it), with
    /// the position of the user stream's head.
    /// </summary>
    private static async Task<Ok<NotificationSettingsView>> Get(HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var (user, channels) = await store.InTransactionAsync(async (tx, token) =>
            (await NotificationWriteSide.LoadPreferencesAsync(store.Log, tx, actor.UserId, token),
             await NotificationWriteSide.LoadChannelSettingsAsync(tx, actor.UserId, token)), ct);
        if (!user.Exists)
        {
            throw CommandRejected.NotFound("The user");
        }
        var p = NotificationPreferencesView.Of(user.Notifications, await store.HeadPositionAsync(Ids.UserStream(actor.UserId), ct));
        return TypedResults.Ok(new NotificationSettingsView(p.Email, p.DigestMinutes, p.Dnd, p.SnoozeUntil, channels, p.Position));
    }

    private static async Task<Ok<NotificationPreferencesView>> Patch(JsonElement body, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var patch = Parse(body);
        return TypedResults.Ok(await RunAsync(store, actor.UserId, actor, user => Decide(user, patch), ct));
    }

    /// <summary>Runs a preferences decision for <paramref name="userId"/> through the user pipeline; answers the preferences after it.</summary>
    public static async Task<NotificationPreferencesView> RunAsync(
        ChatEventStore store, string userId, Actor actor, Func<UserState, NotificationPreferencesSet?> decide, CancellationToken ct)
    {
        var after = NotificationPreferences.Default;
        var result = await UserPipeline.RunAsync(store, userId, actor,
            (tx, token) => NotificationWriteSide.LoadPreferencesAsync(store.Log, tx, userId, token),
            user => user,
            user =>
            {
                var decided = decide(user);
                after = decided is null ? user.Notifications : NotificationPreferences.Of(decided);
                return decided is null ? [] : [decided];
            }, ct);
        return NotificationPreferencesView.Of(after, result?.Position ?? await store.HeadPositionAsync(Ids.UserStream(userId), ct));
    }
}
