namespace EventSourcedChat.Contracts.Files;

/// <summary>Where a client sends a file's bytes: the URL, the method and the headers it must send, and until when.</summary>
public sealed record SignedUpload(string Url, string Method, IReadOnlyDictionary<string, string> Headers, DateTimeOffset ExpiresAt);

/// <summary>What a download answers with: the file's name and the type found in its bytes (which decides inline or attachment).</summary>
public sealed record FileDownload(string Name, string ContentType)
{
    /// <summary>Only the allow-listed image types are shown in the browser; everything else downloads.</summary>
    public bool Inline => FileTypes.ShowsInline(ContentType);
}

/// <summary>
/// Where files' bytes live, behind URLs the store signs: a client uploads to and downloads from the store itself, with an
/// expiring URL that names the method and the object. The API nodes only sign; the embedded store (files on local disk,
/// served by the Gateway) is the default.
/// </summary>
public interface IObjectStore
{
    /// <summary>A URL that accepts exactly <paramref name="size"/> bytes for <paramref name="objectId"/> until <paramref name="expiresAt"/>.</summary>
    SignedUpload SignUpload(string objectId, long size, DateTimeOffset expiresAt);

    /// <summary>A URL that serves <paramref name="objectId"/> (with range requests) until <paramref name="expiresAt"/>.</summary>
    string SignDownload(string objectId, FileDownload download, DateTimeOffset expiresAt);

    /// <summary>Removes the object's bytes; nothing when there are none.</summary>
    Task DeleteAsync(string objectId, CancellationToken ct);
}

/// <summary>The write side's record of uploads, as the store that receives the bytes reports them.</summary>
public interface IFileUploads
{
    /// <summary>
    /// Records that a pending upload's bytes arrived: their size, SHA-256 (lower-case hex) and the type found in them.
    /// False when there is no such upload waiting for its bytes (unknown, expired, swept or already uploaded), or the
    /// size is not the one asked for: the caller then discards the bytes.
    /// </summary>
    Task<bool> CompleteAsync(string fileId, long size, string sha256, string contentType, CancellationToken ct);
}
