using System.Text.Json;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Tests.Security;

/// <summary>The documented effects of the profile commands (docs/profiles.md), judged from what the request carried.</summary>
internal sealed partial class FuzzEffects
{
    /// <summary>
    /// <c>PATCH /v1/users/me</c>: the fields given (trimmed; an empty title or time zone is none) in one
    /// <c>user.profile_updated</c>, or nothing when the profile already was so. <c>PUT .../status</c>: the emoji and text
    /// (trimmed; none is empty) in <c>user.status_set</c>, or nothing when that status already shows. <c>DELETE</c>:
    /// <c>user.status_cleared</c>, or nothing when none showed. Each read back through <c>GET /v1/users/me</c>. An
    /// <c>avatarFileId</c> the fuzzer sends is never the caller's uploaded image (refused), or <c>""</c>: the caller has
    /// no avatar to remove, so it adds no event.
    /// </summary>
    private static async Task<string?> ProfileEffectAsync(Command c, HttpClient client, JsonElement? request, IReadOnlyList<LoggedEvent> appended, long? last)
    {
        var stream = $"user-{c.Caller.UserId}";
        string? Given(string name) => Field(request, name) is { ValueKind: JsonValueKind.String } v ? v.GetString()!.Trim() : null;
        string? NoneIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
        switch (c.Key)
        {
            case "PATCH /v1/users/me":
            {
                var expected = new Dictionary<string, object?> { ["userId"] = c.Caller.UserId };
                if (Given("displayName") is { } name)
                {
                    expected["displayName"] = name;
                }
                if (Given("title") is { } title)
                {
                    expected["title"] = NoneIfEmpty(title);
                }
                if (Given("timeZone") is { } zone)
                {
                    expected["timeZone"] = NoneIfEmpty(zone);
                }
                return (appended.Count == 0 ? null : Exactly(appended, (stream, typeof(UserProfileUpdated), expected)))
                       ?? await ReadBackAsync(client, "/v1/users/me", last, u => expected.Where(f => f.Key != "userId")
                           .All(f => u.GetProperty(f.Key).ValueKind == JsonValueKind.Null ? f.Value is null : u.GetProperty(f.Key).GetString() == (string?)f.Value));
            }
            case "PUT /v1/users/me/status":
            {
                var (emoji, text) = (Given("emoji") ?? "", Given("text") ?? "");
                return (appended.Count == 0 ? null : Exactly(appended, (stream, typeof(UserStatusSet), new { userId = c.Caller.UserId, emoji, text })))
                       ?? await ReadBackAsync(client, "/v1/users/me", last, u => u.GetProperty("status") is { ValueKind: JsonValueKind.Object } st
                           && st.GetProperty("emoji").GetString() == emoji && st.GetProperty("text").GetString() == text);
            }
            default:
                return (appended.Count == 0 ? null : Exactly(appended, (stream, typeof(UserStatusCleared), new { userId = c.Caller.UserId })))
                       ?? await ReadBackAsync(client, "/v1/users/me", last, u => u.GetProperty("status").ValueKind == JsonValueKind.Null);
        }
    }
}
