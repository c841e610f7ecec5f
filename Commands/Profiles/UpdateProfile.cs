using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Commands.Profiles;

/// <summary>A change to one's own profile: a field left out (null) stays as it is; an empty title or time zone clears it.</summary>
/// <param name="AvatarFileId">An image the caller uploaded, to become their avatar; <c>""</c> removes the avatar.</param>
public sealed record UpdateProfile(string? DisplayName, string? Title, string? TimeZone, string? AvatarFileId = null);

public static class UpdateProfileEndpoint
{
    /// <summary>
    /// The profile after the change, as one event holding all of it, to the user's workspaces; null when nothing
    /// changes (idempotent). <paramref name="avatar"/>: the avatar the endpoint made of <c>AvatarFileId</c>, if any.
    /// </summary>
    public static UserProfileUpdated? Decide(UserState user, IReadOnlyList<string> workspaceIds, UpdateProfile command, AvatarFacts? avatar = null)
    {
        if (!user.Exists)
        {
            throw CommandRejected.NotFound("The user");
        }
        AvatarRules.Check(command.AvatarFileId, avatar);
        var displayName = command.DisplayName is { } d ? ProfileRules.DisplayName(d) : user.DisplayName;
        var title = command.Title is { } t ? ProfileRules.Title(t) : user.Title;
        var timeZone = command.TimeZone is { } z ? ProfileRules.TimeZone(z) : user.TimeZone;
        return (displayName, title, timeZone) == (user.DisplayName, user.Title, user.TimeZone)
            ? null
            : new UserProfileUpdated(user.UserId, displayName, title, timeZone, workspaceIds);
    }

    /// <summary>
    /// The avatar's change: <c>user.avatar_set</c> with the sizes made of the file, <c>user.avatar_removed</c> for
    /// <c>""</c>; null when it is already so (the same file again, or no avatar to remove) or not asked for.
    /// </summary>
    public static object? DecideAvatar(UserState user, IReadOnlyList<string> workspaceIds, UpdateProfile command, AvatarFacts? avatar)
    {
        if (!user.Exists)
        {
            throw CommandRejected.NotFound("The user");
        }
        AvatarRules.Check(command.AvatarFileId, avatar);
        return command.AvatarFileId switch
        {
            null => null,
            "" => user.Avatar is null ? null : new UserAvatarRemoved(user.UserId, workspaceIds),
            var id when user.Avatar?.FileId == id => null,
            _ => new UserAvatarSet(user.UserId, avatar!.FileId, avatar.Sha256, avatar.Images, workspaceIds),
        };
    }

    /// <summary>Both decisions, profile first: what one <c>PATCH</c> appends.</summary>
    public static IReadOnlyList<object> DecideAll(UserState user, IReadOnlyList<string> workspaceIds, UpdateProfile command, AvatarFacts? avatar) =>
        new[] { Decide(user, workspaceIds, command, avatar), DecideAvatar(user, workspaceIds, command, avatar) }.OfType<object>().ToList();

    public static RouteGroupBuilder MapUpdateProfile(this RouteGroupBuilder group)
    {
        group.MapPatch("/users/me", Handle).WithName("UpdateProfile");
        return group;
    }

    private static async Task<Ok<ProfileResponse>> Handle(
        UpdateProfile command, HttpContext http, ChatEventStore store, TimeProvider clock, NpgsqlDataSource db, IObjectStore objects,
        IAvatarImages avatars, ILogger<UpdateProfile> logger, CancellationToken ct)
    {
        var avatar = command.AvatarFileId is { Length: > 0 } fileId ? await MakeAvatarAsync(command, fileId, Actor.From(http), db, avatars, ct) : null;
        var outcome = await ProfilePipeline.RunManyAsync(http, store, clock, (user, workspaces, _) => DecideAll(user, workspaces, command, avatar), ct);
        if (outcome.Before.Avatar is { } replaced && replaced.FileId != outcome.After.Avatar?.FileId)
        {
            try
            {
                await objects.DeleteAsync(replaced, ct);
            }
            catch (ObjectStoreUnavailable e)
            {
                // The change is committed; the old sizes stay in the store (no URL is given out for them any more).
                logger.LogWarning(e.Cause, "The replaced avatar of {UserId} (file {FileId}) was not deleted", outcome.After.UserId, replaced.FileId);
            }
        }
        return outcome.Answer;
    }

    /// <summary>
    /// Checks the file and makes the avatar's sizes in the store, before the command's transaction (decoding takes
    /// time; no transaction waits on it). The profile fields are checked first, so a refused change makes nothing.
    /// </summary>
    private static async Task<AvatarFacts> MakeAvatarAsync(
        UpdateProfile command, string fileId, Actor actor, NpgsqlDataSource db, IAvatarImages avatars, CancellationToken ct)
    {
        _ = command.DisplayName is { } d ? ProfileRules.DisplayName(d) : null;
        _ = command.Title is { } t ? ProfileRules.Title(t) : null;
        _ = command.TimeZone is { } z ? ProfileRules.TimeZone(z) : null;
        var file = AvatarRules.Source(Ids.IsValid(fileId) ? (await FileTable.LoadAsync(db, [fileId], ct)).SingleOrDefault() : null, actor.UserId);
        var images = await avatars.MakeAsync(file.FileId, file.Size, ct) ?? throw AvatarRules.Unreadable();
        return new AvatarFacts(file.FileId, file.Sha256!, images);
    }
}
