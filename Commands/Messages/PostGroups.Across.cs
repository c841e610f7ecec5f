using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.EventStore;
using Microsoft.Extensions.Logging;
using Npgsql;
using Outcome = EventSourcedChat.Commands.Infrastructure.GroupCommit<EventSourcedChat.Commands.Messages.PostItem, EventSourcedChat.EventStore.AppendResult>.Outcome;
using KeyGroup = EventSourcedChat.Commands.Infrastructure.GroupCommit<EventSourcedChat.Commands.Messages.PostItem, EventSourcedChat.EventStore.AppendResult>.KeyGroup;

namespace EventSourcedChat.Commands.Messages;

/// <summary>
/// The groups of several channels in one transaction: one commit, so one WAL flush, for the posts of every channel
/// that had posts waiting, in the same three round trips as one channel's group.
/// </summary>
/// <remarks>
/// The first channel's stream lock is awaited, as for one channel; the others' are only tried: a channel whose lock
/// another transaction holds is left out (its posts go back to the front of its queue and the next transaction takes
/// it first and alone), so the transaction never waits holding locks that another writer may wait for, and one busy channel does
/// not hold up the others. Anything that fails the shared transaction (a conflict with another node, a swept file, a
/// lost connection) rolls it back whole, and each channel's group then runs alone, as it would have without the others:
/// the error reaches only the posts it concerns.
/// </remarks>
public sealed partial class PostGroups
{
    private async Task<IReadOnlyList<IReadOnlyList<Outcome>?>> RunAcrossAsync(IReadOnlyList<KeyGroup> groups)
    {
        try
        {
            return await _store.InTransactionAsync((tx, ct) => CommitAcrossAsync(tx, groups, ct), CancellationToken.None);
        }
#pragma warning disable CA1031 // every group runs again alone, where its own error (if any) is answered to its own posts
        catch (Exception e)
#pragma warning restore CA1031
        {
            // A conflict with another node or a lost connection is the environment; anything else is worth a look.
            _logger.Log(e is NpgsqlException ? LogLevel.Information : LogLevel.Warning, e,
                "The posts of {Channels} channels could not commit together; each channel commits alone", groups.Count);
            var alone = new List<IReadOnlyList<Outcome>?>(groups.Count);
            foreach (var group in groups)
            {
                try
                {
                    alone.Add(await RunOneAsync(group.Key, group.Items));
                }
#pragma warning disable CA1031 // the group's own failure fails its posts only
                catch (Exception failed)
#pragma warning restore CA1031
                {
                    alone.Add([.. group.Items.Select(_ => Outcome.Failed(failed))]);
                }
            }
            return alone;
        }
    }

    private sealed record Part(int Index, string ChannelId, string Stream, IReadOnlyList<PostItem> Items, List<long> Seqs, List<Guid> Ids);

    private sealed record Decided(Part Part, long Expected, Decisions Decisions);

    private async Task<IReadOnlyList<IReadOnlyList<Outcome>?>> CommitAcrossAsync(NpgsqlTransaction tx, IReadOnlyList<KeyGroup> groups, CancellationToken ct)
    {
        var outcomes = new IReadOnlyList<Outcome>?[groups.Count];
        var parts = new List<Part>();
        for (var g = 0; g < groups.Count; g++)
        {
            var (channelId, items) = groups[g];
            if (!Ids.IsValid(channelId))
            {
                outcomes[g] = Decide(WorkspaceState.Initial, ChannelState.Initial, Ids.ChannelStream(channelId), items, []).Outcomes;
                continue;
            }
            parts.Add(new Part(g, channelId, Ids.ChannelStream(channelId), items,
                items.Where(i => i.Command.ThreadRootSeq is not null).Select(i => i.Command.ThreadRootSeq!.Value).Distinct().ToList(),
                items.Where(i => i.EventId is not null).Select(i => i.EventId!.Value).Distinct().ToList()));
        }
        var decided = await ReadAndDecideAsync(tx, parts, outcomes, ct);
        if (decided.Count == 0)
        {
            return outcomes;
        }
        // Every channel's append first, then every channel's write-side rows: the appends are the statements that answer
        // rows, read one after the other; the rest run to the end so their errors surface here.
        await using var write = new NpgsqlBatch(tx.Connection, tx);
        foreach (var d in decided)
        {
            write.BatchCommands.Add(_store.Log.AppendEachCommand(d.Part.Stream, d.Expected, d.Decisions.Accepted.ConvertAll(a => a.Event)));
        }
        var afterEach = decided.ConvertAll(d => ChannelWriteSide.AddApply(write, d.Part.ChannelId, d.Expected + 1, d.Decisions.Accepted.ConvertAll(a => a.Posted)));
        await write.PrepareAsync(ct);
        var rows = new List<IReadOnlyList<AppendResult>>();
        await using (var r = await write.ExecuteReaderAsync(ct))
        {
            for (var k = 0; k < decided.Count; k++)
            {
                if (k > 0)
                {
                    await r.NextResultAsync(ct);
                }
                rows.Add(await _store.Log.ReadAppendedAsync(r, ct));
            }
            while (await r.NextResultAsync(ct))
            {
            }
        }
        for (var k = 0; k < decided.Count; k++)
        {
            await ChannelWriteSide.ApplyAfterAsync(tx, decided[k].Part.ChannelId, afterEach[k], ct);
            outcomes[decided[k].Part.Index] = Answer(decided[k].Decisions, rows[k]);
        }
        return outcomes;
    }

    /// <summary>
    /// The first round trip: each channel's stream lock (the first awaited, the others tried), its slice of the write side
    /// and the ids it already holds; then each locked channel's decisions. A channel whose lock was busy is left out
    /// (its outcome stays null); one with nothing accepted gets its outcomes at once.
    /// </summary>
    private async Task<List<Decided>> ReadAndDecideAsync(NpgsqlTransaction tx, List<Part> parts, IReadOnlyList<Outcome>?[] outcomes, CancellationToken ct)
    {
        var decided = new List<Decided>();
        if (parts.Count == 0)
        {
            return decided;
        }
        await using var read = new NpgsqlBatch(tx.Connection, tx);
        read.BatchCommands.Add(Sql.GenericPlans());
        for (var p = 0; p < parts.Count; p++)
        {
            var part = parts[p];
            read.BatchCommands.Add(p == 0 ? PostgresEventStore.LockStreamCommand(part.Stream) : PostgresEventStore.TryLockStreamCommand(part.Stream));
            ChannelWriteSide.AddGroupRead(read, part.ChannelId, part.Items.Select(i => i.Actor.UserId).Distinct().ToList(), part.Seqs);
            if (part.Ids.Count > 0)
            {
                read.BatchCommands.Add(PostgresEventStore.FindEventsCommand(part.Stream, part.Ids));
            }
        }
        await read.PrepareAsync(ct);
        await using var r = await read.ExecuteReaderAsync(ct);
        await r.NextResultAsync(ct); // past the plan setting
        for (var p = 0; p < parts.Count; p++)
        {
            var part = parts[p];
            if (p > 0)
            {
                await r.NextResultAsync(ct); // to this channel's lock
            }
            var locked = p == 0 || (await r.ReadAsync(ct) && r.GetBoolean(0));
            await r.NextResultAsync(ct); // past the lock
            var (workspace, channel) = await ChannelWriteSide.ReadGroupAsync(r, part.ChannelId, part.Seqs.Count > 0, ct);
            var stored = part.Ids.Count > 0 && await r.NextResultAsync(ct) ? await PostgresEventStore.ReadFoundEventsAsync(r, ct) : [];
            if (!locked)
            {
                continue; // read without the lock: not decided on; the channel waits for the next transaction
            }
            var decisions = Decide(workspace, channel, part.Stream, part.Items, stored);
            if (decisions.Accepted.Count == 0)
            {
                outcomes[part.Index] = decisions.Outcomes;
            }
            else
            {
                decided.Add(new Decided(part, channel.Version, decisions));
            }
        }
        return decided;
    }
}
