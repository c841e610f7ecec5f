using System.Collections.Concurrent;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Projections.Infrastructure;

/// <summary>
/// Rebuilds a projection from position 0 into a fresh schema while the live one keeps serving, then switches over
/// atomically: under the projection's switch lock (which every live batch takes shared) it applies the last events
/// up to the live checkpoint and swaps the schemas by renaming them. Queries name the live schema, so from the
/// next statement they read the rebuilt tables; the live runner goes on from the same checkpoint.
/// </summary>
public sealed class ProjectionRebuilder(NpgsqlDataSource db, PostgresEventStore store, CheckpointStore checkpoints, ProjectionSchemas schemas)
{
    private const int BatchSize = 2_000;
    private readonly ConcurrentDictionary<string, RebuildProgress> _progress = new();

    public IReadOnlyCollection<RebuildProgress> Progress => _progress.Values.ToList();

    /// <summary>
    /// Starts a rebuild in the background unless one of the same projection runs anywhere (a database lock, held for
    /// the rebuild's duration, decides): answers the rebuild's task, or null when another one runs.
    /// <paramref name="stopping"/> ends the rebuild itself (the host's shutdown).
    /// </summary>
    public async Task<Task<RebuildProgress>?> TryStartAsync(Projection projection, CancellationToken stopping)
    {
        var lease = await Lease.TryTakeAsync(db, ProjectionSchemas.RebuildKey(projection), CancellationToken.None);
        if (lease is null)
        {
            return null;
        }
        Report(projection, 0, "rebuilding"); // before the first await of the rebuild: a caller that starts it sees it at once
        return Task.Run(async () =>
        {
            await using (lease)
            {
                return await RebuildAsync(projection, stopping);
            }
        }, CancellationToken.None);
    }

    /// <summary>Rebuilds <paramref name="projection"/> and switches over; callers outside tests go through <see cref="TryStartAsync"/>.</summary>
    public async Task<RebuildProgress> RebuildAsync(Projection projection, CancellationToken ct = default)
    {
        var target = projection.Schema + "_rebuild";
        var checkpoint = projection.CheckpointName + ":rebuild";
        Report(projection, 0, "rebuilding"); // before the first await: a caller that starts it sees it at once
        try
        {
            await ExecuteAsync($"drop schema if exists {ProjectionSchemas.Quote(target)} cascade", ct);
            await checkpoints.DeleteAsync(checkpoint, ct);
            await schemas.EnsureAsync(projection, target, ct);
            Report(projection, 0, "rebuilding");

            // Catch up while the live projection keeps serving and moving.
            var at = LogCursor.Start;
            long applied = 0;
            while (true)
            {
                var (events, _) = await store.ReadSubscriptionBatchAsync(at, BatchSize, ct);
                if (events.Count == 0)
                {
                    break;
                }
                var from = at;
                await Transactions.RunAsync(db, (tx, token) =>
                    ProjectionRunner.ApplyInTransactionAsync(tx, projection, target, checkpoint, from, events, takeSwitchLock: false, token), ct);
                at = events[^1].Cursor;
                applied += events.Count;
                Report(projection, applied, "rebuilding");
            }

            applied += await SwitchOverAsync(projection, target, checkpoint, at, ct);
            return Report(projection, applied, "switched");
        }
        catch (Exception e) when (e is NpgsqlException or LostLeaseException or InvalidOperationException)
        {
            _progress[projection.Name] = new RebuildProgress(projection.Name, _progress.GetValueOrDefault(projection.Name)?.EventsApplied ?? 0, "failed", e.Message);
            throw;
        }
    }

    private async Task<long> SwitchOverAsync(Projection projection, string target, string checkpoint, LogCursor at, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("select pg_advisory_xact_lock($1)", conn, tx))
        {
            lockCmd.Parameters.AddWithValue(ProjectionSchemas.SwitchKey(projection));
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        // No live batch runs now. Bring the new tables exactly to the live checkpoint (or move the live checkpoint
        // to the rebuild's, when the rebuild got further, e.g. because the live projection had failed).
        var live = await CheckpointStore.LoadAsync(projection.CheckpointName, tx, ct);
        long applied = 0;
        while (at < live)
        {
            var (events, _) = await store.ReadSubscriptionBatchAsync(at, BatchSize, ct);
            var upToLive = events.Where(e => e.Cursor <= live).ToList();
            if (upToLive.Count == 0)
            {
                throw new InvalidOperationException($"Rebuild of {projection.Name} cannot reach the live checkpoint.");
            }
            await ProjectionRunner.ApplyInTransactionAsync(tx, projection, target, checkpoint, at, upToLive, takeSwitchLock: false, ct);
            at = upToLive[^1].Cursor;
            applied += upToLive.Count;
        }
        var old = ProjectionSchemas.Quote(projection.Schema + "_old");
        await using (var swap = new NpgsqlCommand($"""
            drop schema if exists {old} cascade;
            create schema if not exists {ProjectionSchemas.Quote(projection.Schema)};
            alter schema {ProjectionSchemas.Quote(projection.Schema)} rename to {old};
            alter schema {ProjectionSchemas.Quote(target)} rename to {ProjectionSchemas.Quote(projection.Schema)};
            drop schema {old} cascade;
            """, conn, tx))
        {
            await swap.ExecuteNonQueryAsync(ct);
        }
        await checkpoints.SaveAsync(projection.CheckpointName, at, tx, ct);
        await CheckpointStore.DeleteAsync(checkpoint, tx, ct);
        await tx.CommitAsync(ct);
        return applied;
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private RebuildProgress Report(Projection projection, long applied, string state) =>
        _progress[projection.Name] = new RebuildProgress(projection.Name, applied, state, null);
}
