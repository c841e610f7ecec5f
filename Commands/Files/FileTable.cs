using System.Text.Json;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Files;

/// <summary>One upload as the write side keeps it (<c>ws_files</c>); <see cref="Sha256"/> is null until its bytes arrived.</summary>
/// <param name="Image">An image's dimensions and thumbnail, found when its bytes were recorded (null for other files).</param>
public sealed record FileRow(
    string FileId, string WorkspaceId, string UploaderId, string Name, long Size, string ContentType, string? Sha256, bool Uploaded,
    ImageFacts? Image = null);

/// <summary>The statements on <c>ws_files</c>, the write side's record of uploads (see migration 0013).</summary>
public static class FileTable
{
    /// <summary>Takes the workspace's file lock until <paramref name="tx"/> ends and answers what its files hold (pending ones included).</summary>
    public static async Task<long> LockUsageAsync(NpgsqlTransaction tx, string workspaceId, CancellationToken ct)
    {
        await tx.ExecuteAsync("select pg_advisory_xact_lock(hashtextextended('ws_files:' || $1, 0))", ct, workspaceId);
        return await tx.ScalarAsync<long>("select coalesce(sum(size), 0)::bigint from ws_files where workspace_id = $1", ct, workspaceId);
    }

    public static Task InsertAsync(NpgsqlTransaction tx, FileRow file, DateTimeOffset expiresAt, CancellationToken ct) =>
        tx.ExecuteAsync("""
            insert into ws_files (file_id, workspace_id, uploader_id, name, size, content_type, expires_at)
            values ($1, $2, $3, $4, $5, $6, $7)
            """, ct, file.FileId, file.WorkspaceId, file.UploaderId, file.Name, file.Size, file.ContentType, expiresAt);

    /// <summary>The named files that exist (any state); the caller judges them.</summary>
    public static async Task<IReadOnlyList<FileRow>> LoadAsync(NpgsqlDataSource db, IReadOnlyCollection<string> fileIds, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            select file_id, workspace_id, uploader_id, name, size, content_type, sha256, uploaded_at is not null,
                   width, height, thumbnail::text
              from ws_files where file_id = any ($1)
            """, (object)fileIds.ToArray());
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<FileRow>();
        while (await r.ReadAsync(ct))
        {
            rows.Add(new FileRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetString(5),
                r.IsDBNull(6) ? null : r.GetString(6), r.GetBoolean(7), ImageOf(r)));
        }
        return rows;
    }

    /// <summary>
    /// Marks uploaded files attached, in the posts' transaction: an attached file is never swept, and counts each
    /// attachment (a file twice in <paramref name="fileIds"/>, two posts of a group, counts two). Answers how many of
    /// the distinct files are still there and uploaded (fewer: one was swept or released after the decision read it).
    /// </summary>
    public static Task<int> AttachAsync(NpgsqlTransaction tx, string[] fileIds, CancellationToken ct) =>
        tx.ExecuteAsync("""
            update ws_files f set attached_at = coalesce(f.attached_at, now()), attach_count = f.attach_count + u.n
              from (select id, count(*)::int as n from unnest($1::text[]) as id group by id) u
             where f.file_id = u.id and f.uploaded_at is not null
            """, ct, (object)fileIds);

    /// <summary>
    /// Deletes an attached file's row if exactly <paramref name="attachments"/> messages attached it. A post attaching it
    /// meanwhile holds the row (the delete waits, then sees its count); one that comes after finds no row and is refused.
    /// </summary>
    public static async Task<FileRelease> ReleaseAsync(NpgsqlDataSource db, string fileId, int attachments, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            with released as (delete from ws_files where file_id = $1 and attached_at is not null and attach_count = $2 returning 1)
            select (select count(*) from released)::int, (select count(*) from ws_files where file_id = $1)::int
            """, fileId, attachments);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return r.GetInt32(0) == 1 ? FileRelease.Released
            : r.GetInt32(1) == 0 ? FileRelease.AlreadyReleased
            : FileRelease.SharedAgain;
    }

    private static ImageFacts? ImageOf(NpgsqlDataReader r) => r.IsDBNull(8) || r.IsDBNull(10) ? null
        : new ImageFacts(r.GetInt32(8), r.GetInt32(9), JsonSerializer.Deserialize<Thumbnail>(r.GetString(10), EventTypes.Json)!);

    /// <summary>Records a pending upload's bytes; false unless it was waiting for exactly this many bytes and has not expired.</summary>
    public static async Task<bool> CompleteAsync(
        NpgsqlDataSource db, string fileId, long size, string sha256, string contentType, ImageFacts? image, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            update ws_files set sha256 = $3, content_type = $4, uploaded_at = now(), width = $5, height = $6, thumbnail = $7::jsonb
             where file_id = $1 and size = $2 and uploaded_at is null and expires_at > now()
            """, fileId, size, sha256, contentType, image?.Width, image?.Height,
            image is null ? null : JsonSerializer.Serialize(image.Thumbnail, EventTypes.Json));
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// The file's completion lock (a session-level advisory lock, held on its own connection outside any transaction, so
    /// it holds back nobody's snapshot), or null when another request holds it. Completions of one file, on any node,
    /// run one at a time: none can take bytes another is still checking.
    /// </summary>
    public static async Task<IAsyncDisposable?> TryLockCompletionAsync(NpgsqlDataSource db, string fileId, CancellationToken ct)
    {
        var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = new NpgsqlCommand("select pg_try_advisory_lock(hashtextextended('ws_files.complete:' || $1, 0))", connection);
            cmd.Parameters.Add(new NpgsqlParameter { Value = fileId });
            if (await cmd.ExecuteScalarAsync(ct) is true)
            {
                return new CompletionLock(connection, fileId);
            }
        }
        catch
        {
            SessionState.Abandon(connection); // the lock may have been taken before the failure
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    private sealed class CompletionLock(NpgsqlConnection connection, string fileId) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() =>
            SessionState.ReleaseAsync(connection, "select pg_advisory_unlock(hashtextextended('ws_files.complete:' || $1, 0))", fileId);
    }

    /// <summary>Deletes up to <paramref name="limit"/> files never attached and past their expiry; answers their ids.</summary>
    public static async Task<IReadOnlyList<string>> SweepAsync(NpgsqlDataSource db, int limit, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            delete from ws_files where file_id in (
                select file_id from ws_files where attached_at is null and expires_at < now() order by expires_at limit $1
                for update skip locked)
            returning file_id
            """, limit);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var ids = new List<string>();
        while (await r.ReadAsync(ct))
        {
            ids.Add(r.GetString(0));
        }
        return ids;
    }
}
