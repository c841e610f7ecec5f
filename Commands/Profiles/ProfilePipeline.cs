using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EventSourcedChat.Commands.Profiles;

/// <summary>
/// The profile commands' common run through <see cref="UserPipeline"/>: load the caller's profile and workspaces (row
/// locked), decide at one instant, append to the user's stream, answer the profile after it (folded from the loaded
/// state and the decided event) with the position.
/// </summary>
internal static class ProfilePipeline
{
    public delegate object? Decision(UserState user, IReadOnlyList<string> workspaceIds, DateTimeOffset now);

    public static async Task<Ok<ProfileResponse>> RunAsync(
        HttpContext http, ChatEventStore store, TimeProvider clock, Decision decide, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var now = clock.GetUtcNow();
        UserState after = UserState.Initial;
        var result = await UserPipeline.RunAsync(store, actor.UserId, actor,
            (tx, token) => UserWriteSide.LoadProfileAsync(store.Log, tx, actor.UserId, token),
            loaded => loaded.User,
            loaded =>
            {
                var decided = decide(loaded.User, loaded.WorkspaceIds, now);
                after = decided is null ? loaded.User : UserState.Evolve(loaded.User, decided);
                return decided is null ? [] : [decided];
            }, ct);
        var position = result?.Position ?? await store.HeadPositionAsync(Ids.UserStream(actor.UserId), ct);
        return TypedResults.Ok(ProfileResponse.Of(after, now, position));
    }
}
