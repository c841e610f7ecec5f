using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// The user streams' front of <see cref="StreamPipeline"/>: load what the command decides on (in its transaction),
/// decide, append to the user's stream at the loaded version, move <c>ws_users</c> and <c>ws_read_markers</c> by
/// <see cref="UserWriteSide.ApplyAsync"/>.
/// </summary>
public static class UserPipeline
{
    /// <summary>
    /// A command on the user's stream: registering (the state is <see cref="UserState.Initial"/>), moving a read marker,
    /// changing the profile, status or password. <paramref name="also"/> runs after the tables moved, in the same transaction (a command that
    /// decides a mail puts it in the outbox there).
    /// </summary>
    public static Task<AppendResult?> RunAsync<TState>(
        ChatEventStore store, string userId, Actor actor, StreamPipeline.Load<TState> load, Func<TState, UserState> userOf,
        Func<TState, IReadOnlyList<object>> decide, CancellationToken ct, StreamPipeline.Apply<TState>? also = null) =>
        StreamPipeline.RunAsync(store, actor,
            new StreamPipeline.WriteSide<TState>(
                _ => Ids.UserStream(userId),
                state => userOf(state).Version,
                async (tx, state, firstVersion, events, token) =>
                {
                    await UserWriteSide.ApplyAsync(tx, userId, events, token);
                    if (also is not null)
                    {
                        await also(tx, state, firstVersion, events, token);
                    }
                }),
            load, decide, ct);
}
