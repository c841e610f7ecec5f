using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Infrastructure;

/// <summary>
/// The one pipeline of every stream command, whatever the stream kind: in one transaction, load the slice of state the
/// command needs (locked where its invariant needs it), decide, append at the loaded version, apply the events to the
/// write-side tables, commit, answer. Repeated whole when another command appended to the stream in between (the
/// append at the loaded version conflicts). An empty decision appends nothing and answers null.
/// </summary>
/// <remarks>
/// Each stream kind has a thin front over it that knows its write side: <c>ChannelPipeline</c>,
/// <c>WorkspacePipeline</c>, <c>UserPipeline</c>. A command's own file keeps its pure <c>Decide</c> and its endpoint.
/// Posting is the one command run in groups: <c>Messages/PostGroups</c> does the same steps (lock, load, decide, append
/// at the loaded version, apply, commit) for all the posts to a channel that queued behind its commit in flight
/// (<see cref="GroupCommit{TItem,TResult}"/>), deciding each on the state folded with the ones before it.
/// </remarks>
public static class StreamPipeline
{
    /// <summary>Reads the state a command decides on, inside the command's transaction.</summary>
    public delegate Task<TState> Load<TState>(NpgsqlTransaction tx, CancellationToken ct);

    /// <summary>Moves the stream kind's write-side tables by the events just appended (versions <c>firstVersion</c> on).</summary>
    public delegate Task Apply<TState>(NpgsqlTransaction tx, TState state, long firstVersion, IReadOnlyList<object> events, CancellationToken ct);

    /// <summary>A stream kind's write side as the pipeline needs it.</summary>
    /// <param name="Stream">The stream the command appends to, named from the loaded state where it depends on it.</param>
    /// <param name="VersionOf">The stream version the state was loaded at (0: no stream yet).</param>
    public sealed record WriteSide<TState>(Func<TState, string> Stream, Func<TState, long> VersionOf, Apply<TState> Apply);

    /// <param name="eventIds">The id of the event at each index (a client's message id, ids derived for idempotency), or new ones.</param>
    /// <returns>The append, or null when the decision was empty.</returns>
    public static Task<AppendResult?> RunAsync<TState>(
        ChatEventStore store, Actor actor, WriteSide<TState> writeSide, Load<TState> load,
        Func<TState, Task<IReadOnlyList<object>>> decide, CancellationToken ct, Func<int, Guid?>? eventIds = null) =>
        ChatEventStore.RetryOnConflict(() => store.InTransactionAsync<AppendResult?>(async (tx, token) =>
        {
            var state = await load(tx, token);
            var events = await decide(state);
            if (events.Count == 0)
            {
                return null;
            }
            var result = await store.AppendAsync(
                tx, writeSide.Stream(state), ExpectedVersion.Exactly(writeSide.VersionOf(state)), events, actor, eventIds, token);
            if (!result.Duplicate)
            {
                await writeSide.Apply(tx, state, result.Version - events.Count + 1, events, token);
            }
            return result;
        }, ct));

    /// <summary>The same with a decision that needs nothing but the state.</summary>
    public static Task<AppendResult?> RunAsync<TState>(
        ChatEventStore store, Actor actor, WriteSide<TState> writeSide, Load<TState> load,
        Func<TState, IReadOnlyList<object>> decide, CancellationToken ct, Func<int, Guid?>? eventIds = null) =>
        RunAsync(store, actor, writeSide, load, state => Task.FromResult(decide(state)), ct, eventIds);

    /// <summary>A load for a command that creates its stream: nothing to read.</summary>
    public static Load<TState> Nothing<TState>(TState initial) => (_, _) => Task.FromResult(initial);
}
