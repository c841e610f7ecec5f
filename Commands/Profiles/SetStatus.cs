using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Profiles;

/// <param name="ExpiresAt">When the status stops showing (it is then read as none; nothing is written); null: until cleared.</param>
public sealed record SetStatus(string? Emoji, string? Text, DateTimeOffset? ExpiresAt);

public static class SetStatusEndpoint
{
    /// <summary>Sets the caller's status; setting the status that shows now decides nothing (idempotent).</summary>
    public static UserStatusSet? Decide(UserState user, IReadOnlyList<string> workspaceIds, SetStatus command, DateTimeOffset now)
    {
        if (!user.Exists)
        {
            throw CommandRejected.NotFound("The user");
        }
        var status = ProfileRules.Status(command.Emoji, command.Text, command.ExpiresAt, now);
        return user.StatusAt(now) == status ? null : new UserStatusSet(user.UserId, status.Emoji, status.Text, status.ExpiresAt, workspaceIds);
    }

    /// <summary>Clears the caller's status; with none showing (never set, cleared or expired) it decides nothing.</summary>
    public static UserStatusCleared? DecideClear(UserState user, IReadOnlyList<string> workspaceIds, DateTimeOffset now)
    {
        if (!user.Exists)
        {
            throw CommandRejected.NotFound("The user");
        }
        return user.StatusAt(now) is null ? null : new UserStatusCleared(user.UserId, workspaceIds);
    }

    public static RouteGroupBuilder MapStatus(this RouteGroupBuilder group)
    {
        group.MapPut("/users/me/status", Set).WithName("SetStatus");
        group.MapDelete("/users/me/status", Clear).WithName("ClearStatus");
        return group;
    }

    private static Task<Ok<ProfileResponse>> Set(SetStatus command, HttpContext http, ChatEventStore store, TimeProvider clock, CancellationToken ct) =>
        ProfilePipeline.RunAsync(http, store, clock, (user, workspaces, now) => Decide(user, workspaces, command, now), ct);

    private static Task<Ok<ProfileResponse>> Clear(HttpContext http, ChatEventStore store, TimeProvider clock, CancellationToken ct) =>
        ProfilePipeline.RunAsync(http, store, clock, (user, workspaces, now) => DecideClear(user, workspaces, now), ct);
}
