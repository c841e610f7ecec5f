using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Commands.Channels;

/// <summary>
/// The one pipeline of every command on an existing channel (posting, edits, deletes, reactions, channel changes,
/// legal holds): lock the channel row and load the slice of its state the command names, decide, append at the loaded
/// version, apply the events to the write-side tables in the same transaction, answer. Retried whole on a concurrent
/// change (an append that did not take the lock). An empty decision appends nothing and answers null.
/// </summary>
public static class ChannelPipeline
{
    public delegate Task<IReadOnlyList<object>> Decision(WorkspaceState workspace, ChannelState channel);

    /// <param name="firstEventId">The id of the first event (a client's message id): the same id again is a duplicate.</param>
    /// <returns>The append, or null when the decision was empty.</returns>
    public static Task<AppendResult?> RunAsync(
        ChatEventStore store, string channelId, Actor actor, ChannelSlice slice, Decision decide, CancellationToken ct, Guid? firstEventId = null) =>
        ChatEventStore.RetryOnConflict(() => store.InTransactionAsync<AppendResult?>(async (tx, token) =>
        {
            var (workspace, channel) = await ChannelWriteSide.LockAsync(tx, channelId, actor.UserId, slice, token);
            var events = await decide(workspace, channel);
            if (events.Count == 0)
            {
                return null;
            }
            var stream = Ids.ChannelStream(channelId);
            var result = await store.AppendAsync(tx, stream, ExpectedVersion.Exactly(channel.Version), events, actor, firstEventId, token);
            if (!result.Duplicate)
            {
                await ChannelWriteSide.ApplyAsync(tx, channelId, result.Version - events.Count + 1, events, token);
            }
            return result;
        }, ct));

    /// <summary>What a channel command answers: the position of its last event, or the stream's head when nothing changed.</summary>
    public static async Task<PositionResponse> RunForPositionAsync(
        ChatEventStore store, string channelId, Actor actor, ChannelSlice slice, Decision decide, CancellationToken ct)
    {
        var result = await RunAsync(store, channelId, actor, slice, decide, ct);
        return new PositionResponse(result?.Position ?? await store.HeadPositionAsync(Ids.ChannelStream(channelId), ct));
    }

    public static Decision Pure(Func<WorkspaceState, ChannelState, IReadOnlyList<object>> decide) =>
        (workspace, channel) => Task.FromResult(decide(workspace, channel));
}
