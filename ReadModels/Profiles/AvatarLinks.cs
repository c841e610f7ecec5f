using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.ReadModels.Profiles;

/// <summary>
/// An avatar as the profiles read model keeps it (<c>rm_profiles.profiles.avatar</c>: object ids, no URL) made into the
/// signed URLs a query answers, by size. Whoever may read the profile (themselves, anyone sharing a workspace) gets them.
/// </summary>
public sealed class AvatarLinks(IObjectStore objects, FileSettings settings, TimeProvider clock)
{
    /// <summary>The URLs of every size by size, or null without an avatar.</summary>
    public IReadOnlyDictionary<string, string>? UrlsOf(string? stored) =>
        stored is null || JsonSerializer.Deserialize<AvatarFacts>(stored, EventTypes.Json) is not { } avatar
            ? null
            : Avatars.Sign(objects, avatar.Images, clock.GetUtcNow(), settings.AvatarUrlLifetime);
}
