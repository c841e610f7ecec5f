using System.Text.Json;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Tests.Security;

/// <summary>The documented effects of the notification commands (docs/notifications.md), judged from what the request carried.</summary>
internal sealed partial class FuzzEffects
{
    /// <summary>
    /// <c>PATCH /v1/users/me/notifications</c>: the fields given in one <c>user.notification_preferences_set</c>, or
    /// nothing when they were so already, read back through <c>GET</c>; the unsubscribe link: mail off (or nothing when
    /// it was off); a channel's setting and a thread follow: one event on the caller's stream, or nothing when so already.
    /// </summary>
    private static async Task<string?> NotificationEffectAsync(
        Command c, HttpClient client, JsonElement? request, IReadOnlyList<LoggedEvent> appended, long? last, string channelId, long seq)
    {
        var user = c.Caller.UserId;
        var stream = $"user-{user}";
        string? OneOrNone(Type type, object data) => appended.Count == 0 ? null : Exactly(appended, (stream, type, data));
        switch (c.Key)
        {
            case "PATCH /v1/users/me/notifications":
            {
                bool? email = Field(request, "email") is { ValueKind: JsonValueKind.True or JsonValueKind.False } e ? e.GetBoolean() : null;
                int? digest = Field(request, "digestMinutes") is { ValueKind: JsonValueKind.Number } d && d.TryGetInt32(out var m) ? m : null;
                var expected = new Dictionary<string, object?> { ["userId"] = user, ["via"] = "settings" };
                if (email is { } on)
                {
                    expected["email"] = on;
                }
                if (digest is { } minutes)
                {
                    expected["digestMinutes"] = minutes;
                }
                return OneOrNone(typeof(NotificationPreferencesSet), expected)
                       ?? await ReadBackAsync(client, "/v1/users/me/notifications", last, p =>
                           (email is null || p.GetProperty("email").GetBoolean() == email) && (digest is null || p.GetProperty("digestMinutes").GetInt32() == digest));
            }
            case "POST /v1/notifications/unsubscribe":
                return OneOrNone(typeof(NotificationPreferencesSet), new { userId = user, email = false, via = "unsubscribe" })
                       ?? await ReadBackAsync(client, "/v1/users/me/notifications", last, p => !p.GetProperty("email").GetBoolean());
            case "PUT /v1/channels/{channelId}/notifications":
                return OneOrNone(typeof(ChannelNotificationsSet), new { userId = user, channelId });
            default:
                var follow = c.Method == "PUT";
                return OneOrNone(follow ? typeof(ThreadFollowed) : typeof(ThreadUnfollowed), new { userId = user, channelId, rootSeq = seq });
        }
    }
}
