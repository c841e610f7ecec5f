using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Commands.Channels;

/// <summary>
/// The channel streams' front of <see cref="StreamPipeline"/>: every command on an existing channel (posting, edits,
/// deletes, reactions, channel changes, legal holds) locks the channel row and loads the slice of its state the
/// command names, decides, appends at the loaded version and applies the events to the write-side tables in the same
/// transaction. Commands that create a channel stream decide on the workspace (<see cref="CreateAsync"/>).
/// </summary>
public static class ChannelPipeline
{
    public delegate Task<IReadOnlyList<object>> Decision(WorkspaceState workspace, ChannelState channel);

    /// <param name="firstEventId">The id of the first event (a client's message id): the same id again is a duplicate.</param>
    /// <returns>The append, or null when the decision was empty.</returns>
    public static Task<AppendResult?> RunAsync(
        ChatEventStore store, string channelId, Actor actor, ChannelSlice slice, Decision decide, CancellationToken ct, Guid? firstEventId = null) =>
        StreamPipeline.RunAsync(store, actor, WriteSide(channelId),
            (tx, token) => ChannelWriteSide.LockAsync(tx, channelId, actor.UserId, slice, token),
            loaded => decide(loaded.Workspace, loaded.Channel), ct, ChatEventStore.FirstId(firstEventId));

    /// <summary>
    /// A command that creates a channel stream (a channel, a DM): decided on the workspace it is created in, appended to
    /// a stream that must not exist yet, unless every event is a duplicate of one already stored (<paramref name="eventIds"/>).
    /// </summary>
    public static Task<AppendResult?> CreateAsync(
        ChatEventStore store, string workspaceId, string channelId, Actor actor, IReadOnlyCollection<string> userIds,
        Func<WorkspaceState, IReadOnlyList<object>> decide, CancellationToken ct, Func<int, Guid?>? eventIds = null) =>
        StreamPipeline.RunAsync(store, actor,
            new StreamPipeline.WriteSide<WorkspaceState>(_ => Ids.ChannelStream(channelId), _ => 0,
                (tx, _, first, events, token) => ChannelWriteSide.ApplyAsync(tx, channelId, first, events, token)),
            (tx, token) => WorkspaceWriteSide.LoadAsync(tx, workspaceId, userIds, token), decide, ct, eventIds);

    private static StreamPipeline.WriteSide<(WorkspaceState Workspace, ChannelState Channel)> WriteSide(string channelId) => new(
        _ => Ids.ChannelStream(channelId),
        loaded => loaded.Channel.Version,
        (tx, _, first, events, token) => ChannelWriteSide.ApplyAsync(tx, channelId, first, events, token));

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
