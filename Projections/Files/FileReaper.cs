using EventSourcedChat.Contracts.Files;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedChat.Projections.Files;

/// <summary>
/// Deletes the bytes of files whose every message was deleted, <see cref="FileSettings.DeleteDelay"/> after the last
/// of those deletions, unless a channel the file was shared in is on legal hold (then it waits for the hold to be
/// lifted). Reads what the <see cref="FileProjection"/> folded from the log; runs on every projector node every
/// <see cref="FileSettings.SweepInterval"/>.
/// </summary>
/// <remarks>
/// For each due file: the write side releases its upload record only if as many messages attached it as the
/// projection counted (<see cref="IFileReleases"/>: a post the projection has not applied yet keeps the file); then the
/// bytes go (<see cref="IObjectStore.DeleteAsync"/>, nothing when already gone); then the pending row, unless a newer
/// deletion replaced it. Each step may be repeated after a crash or by another node with the same result, so nodes
/// need no lease. This row is the reaper's one write to a read model; a rebuild that brings it back costs a repeat.
/// </remarks>
public sealed class FileReaper(NpgsqlDataSource db, IObjectStore objects, IFileReleases releases, FileSettings settings, ILogger<FileReaper> logger)
    : BackgroundService
{
    private const int Batch = 500;

    private sealed record Due(string FileId, DateTimeOffset DeletedAt, int Carriers);

    /// <summary>One pass as of <paramref name="now"/>: answers the ids of the files whose bytes it deleted.</summary>
    public async Task<IReadOnlyList<string>> ReapOnceAsync(DateTimeOffset now, CancellationToken ct)
    {
        var deleted = new List<string>();
        var after = new Due("", DateTimeOffset.UnixEpoch, 0);
        while (true)
        {
            // In keyset pages, so files kept back (shared again) never hold up the ones behind them.
            var page = await DueAsync(now - settings.DeleteDelay, after, ct);
            foreach (var due in page)
            {
                if (await releases.ReleaseAsync(due.FileId, due.Carriers, ct) == FileRelease.SharedAgain)
                {
                    continue; // the projection removes the row when it applies that post
                }
                await objects.DeleteFileAsync(due.FileId, ct);
                await using var done = db.CreateCommand("delete from rm_files.deletions where file_id = $1 and deleted_at = $2");
                done.Parameters.AddWithValue(due.FileId);
                done.Parameters.AddWithValue(due.DeletedAt);
                await done.ExecuteNonQueryAsync(ct);
                deleted.Add(due.FileId);
            }
            if (page.Count < Batch)
            {
                return deleted;
            }
            after = page[^1];
        }
    }

    /// <summary>Files whose last carrier was deleted before <paramref name="before"/>, none live, none in a held channel, after <paramref name="after"/>.</summary>
    private async Task<List<Due>> DueAsync(DateTimeOffset before, Due after, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select d.file_id, d.deleted_at, (select count(*) from rm_files.carriers c where c.file_id = d.file_id)::int
              from rm_files.deletions d
             where d.deleted_at <= $1
               and not exists (select 1 from rm_files.carriers c where c.file_id = d.file_id and c.deleted_at is null)
               and not exists (select 1 from rm_files.carriers c join rm_files.holds h on h.channel_id = c.channel_id
                                where c.file_id = d.file_id)
               and (d.deleted_at, d.file_id) > ($2, $3)
             order by d.deleted_at, d.file_id
             limit $4
            """);
        cmd.Parameters.AddWithValue(before.ToUniversalTime()); // Npgsql takes only offset 0 for timestamptz
        cmd.Parameters.AddWithValue(after.DeletedAt);
        cmd.Parameters.AddWithValue(after.FileId);
        cmd.Parameters.AddWithValue(Batch);
        var due = new List<Due>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            due.Add(new Due(r.GetString(0), r.GetFieldValue<DateTimeOffset>(1), r.GetInt32(2)));
        }
        return due;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await ReapOnceAsync(DateTimeOffset.UtcNow, stoppingToken) is { Count: > 0 } deleted)
                {
                    logger.LogInformation("Deleted {Count} files of deleted messages", deleted.Count);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Whatever the store or the database answered, the next pass tries again (the table may not exist yet).
                logger.LogWarning(e, "Deleting files of deleted messages failed; trying again in {Interval}", settings.SweepInterval);
            }
        }
    }
}
