using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.Commands.Workspaces;

/// <summary>
/// The workspace streams' front of <see cref="StreamPipeline"/>: load the workspace with the roles of the users a
/// command names (in its transaction), decide, append at the loaded version, move <c>ws_workspaces</c> and
/// <c>ws_workspace_members</c> by <see cref="WorkspaceWriteSide.ApplyAsync"/>.
/// </summary>
public static class WorkspacePipeline
{
    /// <summary>
    /// A command on a workspace stream: creating it, adding members, recording audit reads, invites. The stream is the one
    /// of the loaded workspace (<see cref="WorkspaceState.WorkspaceId"/>; a command that creates it loads
    /// <see cref="WorkspaceState.Initial"/> with the new id). <paramref name="also"/> runs after the tables moved, in the same
    /// transaction (an invite by email puts its mail in the outbox there).
    /// </summary>
    public static Task<AppendResult?> RunAsync<TState>(
        ChatEventStore store, Actor actor, StreamPipeline.Load<TState> load, Func<TState, WorkspaceState> workspaceOf,
        Func<TState, IReadOnlyList<object>> decide, CancellationToken ct, StreamPipeline.Apply<TState>? also = null) =>
        StreamPipeline.RunAsync(store, actor,
            new StreamPipeline.WriteSide<TState>(
                state => Ids.WorkspaceStream(workspaceOf(state).WorkspaceId),
                state => workspaceOf(state).Version,
                async (tx, state, first, events, token) =>
                {
                    await WorkspaceWriteSide.ApplyAsync(tx, workspaceOf(state).WorkspaceId, first, events, token);
                    if (also is not null)
                    {
                        await also(tx, state, first, events, token);
                    }
                }),
            load, decide, ct);
}
