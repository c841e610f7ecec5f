using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Profiles;

/// <summary>A change to one's own profile: a field left out (null) stays as it is; an empty title or time zone clears it.</summary>
/// <param name="AvatarFileId">Not supported yet (avatars need the file store): any value is refused.</param>
public sealed record UpdateProfile(string? DisplayName, string? Title, string? TimeZone, string? AvatarFileId = null);

public static class UpdateProfileEndpoint
{
    /// <summary>
    /// The profile after the change, as one event holding all of it, to the user's workspaces; null when nothing
    /// changes (idempotent).
    /// </summary>
    public static UserProfileUpdated? Decide(UserState user, IReadOnlyList<string> workspaceIds, UpdateProfile command)
    {
        if (!user.Exists)
        {
            throw CommandRejected.NotFound("The user");
        }
        if (command.AvatarFileId is not null)
        {
            throw CommandRejected.Invalid("Avatars are not supported yet: leave avatarFileId out.");
        }
        var displayName = command.DisplayName is { } d ? ProfileRules.DisplayName(d) : user.DisplayName;
        var title = command.Title is { } t ? ProfileRules.Title(t) : user.Title;
        var timeZone = command.TimeZone is { } z ? ProfileRules.TimeZone(z) : user.TimeZone;
        return (displayName, title, timeZone) == (user.DisplayName, user.Title, user.TimeZone)
            ? null
            : new UserProfileUpdated(user.UserId, displayName, title, timeZone, workspaceIds);
    }

    public static RouteGroupBuilder MapUpdateProfile(this RouteGroupBuilder group)
    {
        group.MapPatch("/users/me", Handle).WithName("UpdateProfile");
        return group;
    }

    private static Task<Ok<ProfileResponse>> Handle(UpdateProfile command, HttpContext http, ChatEventStore store, TimeProvider clock, CancellationToken ct) =>
        ProfilePipeline.RunAsync(http, store, clock, (user, workspaces, _) => Decide(user, workspaces, command), ct);
}
