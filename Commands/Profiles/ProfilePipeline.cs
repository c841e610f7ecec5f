using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Files;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Commands.Profiles;

/// <summary>
/// The profile commands' common run through <see cref="UserPipeline"/>: load the caller's profile and workspaces (row
/// locked), decide at one instant, append to the user's stream, answer the profile after it (folded from the loaded
/// state and the decided events) with the position.
/// </summary>
internal static class ProfilePipeline
{
    public delegate object? Decision(UserState user, IReadOnlyList<string> workspaceIds, DateTimeOffset now);

    public delegate IReadOnlyList<object> Decisions(UserState user, IReadOnlyList<string> workspaceIds, DateTimeOffset now);

    /// <summary>What the run answers, and the state the decision was made on (what it replaced).</summary>
    public sealed record Outcome(Ok<ProfileResponse> Answer, UserState Before, UserState After);

    public static async Task<Ok<ProfileResponse>> RunAsync(
        HttpContext http, ChatEventStore store, TimeProvider clock, Decision decide, CancellationToken ct) =>
        (await RunManyAsync(http, store, clock, (user, workspaces, now) => decide(user, workspaces, now) is { } e ? [e] : [], ct)).Answer;

    public static async Task<Outcome> RunManyAsync(
        HttpContext http, ChatEventStore store, TimeProvider clock, Decisions decide, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var now = clock.GetUtcNow();
        UserState before = UserState.Initial, after = UserState.Initial;
        var result = await UserPipeline.RunAsync(store, actor.UserId, actor,
            (tx, token) => UserWriteSide.LoadProfileAsync(store.Log, tx, actor.UserId, token),
            loaded => loaded.User,
            loaded =>
            {
                var decided = decide(loaded.User, loaded.WorkspaceIds, now);
                before = loaded.User;
                after = decided.Aggregate(loaded.User, UserState.Evolve);
                return decided;
            }, ct);
        var position = result?.Position ?? await store.HeadPositionAsync(Ids.UserStream(actor.UserId), ct);
        var avatarUrls = after.Avatar is { } avatar
            ? Avatars.Sign(http.RequestServices.GetRequiredService<IObjectStore>(), avatar.Images, now,
                http.RequestServices.GetRequiredService<FileSettings>().AvatarUrlLifetime)
            : null;
        return new Outcome(TypedResults.Ok(ProfileResponse.Of(after, now, position, avatarUrls)), before, after);
    }
}
