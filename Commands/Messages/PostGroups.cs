using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.EventStore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourcedChat.Commands.Messages;

/// <summary>
/// One post waiting for its channel's next group: who posts what, under which event id, with the upload rows of the files
/// it names (<paramref name="Files"/>, read before the group) and the most files a message may carry.
/// </summary>
public sealed record PostItem(Actor Actor, PostMessage Command, Guid? EventId, string? TraceParent, IReadOnlyList<FileRow> Files, int MaxFiles);

/// <summary>
/// Group commit of posts, per channel and across channels (<see cref="GroupCommit{TItem,TResult}"/>): the posts to one
/// channel that arrive while its commit is in flight are decided and appended together in its next transaction, in
/// three round trips whatever the group's size: (1) the channel stream's lock, the group's slice of the write side (the
/// channel, each poster's membership and role, the thread roots named) and which of the group's event ids the stream
/// already holds; (2) one <c>es_append_each</c> of every accepted post with the write-side rows they add; (3) the commit.
/// Each post is decided on the state including the posts before it in the group; one refused by its decision gets its
/// own problem answer and the others go on; an id already stored, or twice in the group, is stored once and every
/// repeat answers the first result. A post is answered only after its group committed. The groups of several channels
/// waiting at once share one transaction, still in three round trips (<c>PostGroups.Across.cs</c>).
/// </summary>
public sealed partial class PostGroups
{
    private readonly ChatEventStore _store;
    private readonly GroupCommit<PostItem, AppendResult> _groups;
    private readonly ILogger _logger;

    public PostGroups(ChatEventStore store, ILogger<PostGroups>? logger = null)
    {
        _store = store;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _groups = new GroupCommit<PostItem, AppendResult>(RunAsync);
    }

    /// <summary>Groups committed and posts in them since start (their ratio is the mean group size).</summary>
    public (long Groups, long Items) Committed => _groups.Committed;

    /// <summary>How many posts to the channel wait for its next group.</summary>
    public int Queued(string channelId) => _groups.Queued(channelId);

    /// <returns>The post's append; <see cref="AppendResult.Duplicate"/> when its id was stored before (this answers the first result).</returns>
    public Task<AppendResult> PostAsync(string channelId, PostItem item) => _groups.SubmitAsync(channelId, item);

    /// <summary>Transactions that committed groups (fewer than the groups when channels shared one).</summary>
    public long Transactions => _groups.Transactions;

    private async Task<IReadOnlyList<IReadOnlyList<GroupCommit<PostItem, AppendResult>.Outcome>?>> RunAsync(
        IReadOnlyList<GroupCommit<PostItem, AppendResult>.KeyGroup> groups) =>
        groups.Count == 1 ? [await RunOneAsync(groups[0].Key, groups[0].Items)] : await RunAcrossAsync(groups);

    private Task<IReadOnlyList<GroupCommit<PostItem, AppendResult>.Outcome>> RunOneAsync(string channelId, IReadOnlyList<PostItem> items) =>
        Ids.IsValid(channelId)
            ? ChatEventStore.RetryOnConflict(() => _store.InTransactionAsync((tx, ct) => CommitAsync(tx, channelId, items, ct), CancellationToken.None))
            : Task.FromResult<IReadOnlyList<GroupCommit<PostItem, AppendResult>.Outcome>>(
                Decide(WorkspaceState.Initial, ChannelState.Initial, Ids.ChannelStream(channelId), items, []).Outcomes);

    private async Task<IReadOnlyList<GroupCommit<PostItem, AppendResult>.Outcome>> CommitAsync(
        NpgsqlTransaction tx, string channelId, IReadOnlyList<PostItem> items, CancellationToken ct)
    {
        var stream = Ids.ChannelStream(channelId);
        WorkspaceState workspace;
        ChannelState channel;
        Dictionary<Guid, AppendResult> stored;
        var seqs = items.Where(i => i.Command.ThreadRootSeq is not null).Select(i => i.Command.ThreadRootSeq!.Value).Distinct().ToList();
        var ids = items.Where(i => i.EventId is not null).Select(i => i.EventId!.Value).Distinct().ToList();
        await using (var read = new NpgsqlBatch(tx.Connection, tx))
        {
            read.BatchCommands.Add(Sql.GenericPlans());
            read.BatchCommands.Add(PostgresEventStore.LockStreamCommand(stream));
            ChannelWriteSide.AddGroupRead(read, channelId, items.Select(i => i.Actor.UserId).Distinct().ToList(), seqs);
            if (ids.Count > 0)
            {
                read.BatchCommands.Add(PostgresEventStore.FindEventsCommand(stream, ids));
            }
            await read.PrepareAsync(ct);
            await using var r = await read.ExecuteReaderAsync(ct);
            await r.NextResultAsync(ct); // past the plan setting
            await r.NextResultAsync(ct); // past the lock
            (workspace, channel) = await ChannelWriteSide.ReadGroupAsync(r, channelId, seqs.Count > 0, ct);
            stored = ids.Count > 0 && await r.NextResultAsync(ct) ? await PostgresEventStore.ReadFoundEventsAsync(r, ct) : [];
        }
        var decided = Decide(workspace, channel, stream, items, stored);
        if (decided.Accepted.Count == 0)
        {
            return decided.Outcomes;
        }
        var expected = channel.Version;
        await using var write = new NpgsqlBatch(tx.Connection, tx);
        write.BatchCommands.Add(_store.Log.AppendEachCommand(stream, expected, decided.Accepted.ConvertAll(a => a.Event)));
        var after = ChannelWriteSide.AddApply(write, channelId, expected + 1, decided.Accepted.ConvertAll(a => a.Posted));
        await write.PrepareAsync(ct);
        var rows = await PostgresEventStore.TranslateAsync(stream, expected, async () =>
        {
            await using var r = await write.ExecuteReaderAsync(ct);
            var appended = await _store.Log.ReadAppendedAsync(r, ct);
            while (await r.NextResultAsync(ct))
            {
                // the write-side statements: run to the end so their errors surface here
            }
            return appended;
        });
        // The files the posts attach are marked attached. A file swept since it was read (left unattached for its whole
        // lifetime, then posted in the instant of its sweep) refuses the whole group, every post of it with that problem.
        await ChannelWriteSide.ApplyAfterAsync(tx, channelId, after, ct);
        return Answer(decided, rows);
    }

    /// <summary>Each post's outcome once its group's appended <paramref name="rows"/> (one per accepted post) are known.</summary>
    private static GroupCommit<PostItem, AppendResult>.Outcome[] Answer(Decisions decided, IReadOnlyList<AppendResult> rows)
    {
        var outcomes = decided.Outcomes.ToArray();
        for (var j = 0; j < decided.Accepted.Count; j++)
        {
            outcomes[decided.Accepted[j].Index] = GroupCommit<PostItem, AppendResult>.Outcome.Of(rows[j]);
        }
        foreach (var (repeat, first) in decided.Repeats)
        {
            outcomes[repeat] = GroupCommit<PostItem, AppendResult>.Outcome.Of(outcomes[first].Result! with { Duplicate = true });
        }
        return outcomes;
    }

    private sealed record Accepted(int Index, object Posted, GroupEvent Event);

    private sealed record Decisions(
        GroupCommit<PostItem, AppendResult>.Outcome[] Outcomes, List<Accepted> Accepted, List<(int Repeat, int First)> Repeats);

    /// <summary>Decides each post in order on the state folded with the posts accepted before it.</summary>
    private Decisions Decide(
        WorkspaceState workspace, ChannelState channel, string stream, IReadOnlyList<PostItem> items, Dictionary<Guid, AppendResult> stored)
    {
        var outcomes = new GroupCommit<PostItem, AppendResult>.Outcome[items.Count];
        var accepted = new List<Accepted>();
        var repeats = new List<(int, int)>();
        var firstWithId = new Dictionary<Guid, int>();
        for (var i = 0; i < items.Count; i++)
        {
            var (actor, command, eventId, traceParent, files, maxFiles) = items[i];
            try
            {
                // Decided first: a caller who may not post here learns nothing from replaying an id.
                PostMessageEndpoint.EnsureMayPost(workspace, channel, actor.UserId);
                if (eventId is { } id && stored.TryGetValue(id, out var earlier))
                {
                    outcomes[i] = GroupCommit<PostItem, AppendResult>.Outcome.Of(earlier);
                    continue;
                }
                if (eventId is { } again && firstWithId.TryGetValue(again, out var first))
                {
                    repeats.Add((i, first));
                    continue;
                }
                var posted = PostMessageEndpoint.Decide(workspace, channel, command, Ids.New(), actor.UserId, files, maxFiles);
                var data = ChatEventStore.ToEventData(posted, eventId);
                _store.Log.Validate(stream, [data]);
                accepted.Add(new Accepted(i, posted, new GroupEvent(data, new EventMetadata(actor.UserId, actor.CorrelationId), traceParent)));
                channel = ChannelState.Evolve(channel, posted);
                if (eventId is { } newId)
                {
                    firstWithId[newId] = i;
                }
            }
            catch (ProblemException e)
            {
                outcomes[i] = GroupCommit<PostItem, AppendResult>.Outcome.Failed(e);
            }
            catch (InvalidAppendException e)
            {
                outcomes[i] = GroupCommit<PostItem, AppendResult>.Outcome.Failed(CommandRejected.Invalid(e.Message));
            }
        }
        return new Decisions(outcomes, accepted, repeats);
    }
}
