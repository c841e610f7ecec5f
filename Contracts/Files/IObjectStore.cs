using EventSourcedChat.Contracts.Api;

namespace EventSourcedChat.Contracts.Files;

/// <summary>Where a client sends a file's bytes: the URL, the method and the headers it must send, and until when.</summary>
public sealed record SignedUpload(string Url, string Method, IReadOnlyDictionary<string, string> Headers, DateTimeOffset ExpiresAt);

/// <summary>What a download answers with: the file's name and the type found in its bytes (which decides inline or attachment).</summary>
public sealed record FileDownload(string Name, string ContentType)
{
    /// <summary>Only the allow-listed image types are shown in the browser; everything else downloads.</summary>
    public bool Inline => FileTypes.ShowsInline(ContentType);
}

/// <summary>What an upload's bytes hold, as the store found them: the answer of the upload's completion.</summary>
public sealed record UploadedObject(string FileId, long Size, string Sha256, string ContentType);

/// <summary>What <see cref="IObjectStore.TakeUploadAsync"/> found: nothing uploaded, bytes of the wrong size (discarded), or the bytes.</summary>
public enum UploadOutcome { None, WrongSize, Received }

/// <summary>What a store found when it took an upload's bytes; <see cref="Sha256"/> and <see cref="ContentType"/> only when received.</summary>
public sealed record UploadReceipt(UploadOutcome Outcome, long Size = 0, string Sha256 = "", string ContentType = "")
{
    public static UploadReceipt Nothing { get; } = new(UploadOutcome.None);
}

/// <summary>
/// Where files' bytes live, behind URLs the store signs: a client uploads to and downloads from the store itself, with an
/// expiring URL that names the method and the object. The API nodes only sign; the embedded store (files on local disk,
/// served by the Gateway) is the default, S3 (or an S3-compatible server) the other.
/// </summary>
public interface IObjectStore
{
    /// <summary>A URL that accepts exactly <paramref name="size"/> bytes for <paramref name="objectId"/> until <paramref name="expiresAt"/>.</summary>
    SignedUpload SignUpload(string objectId, long size, DateTimeOffset expiresAt);

    /// <summary>A URL that serves <paramref name="objectId"/> (with range requests) until <paramref name="expiresAt"/>.</summary>
    string SignDownload(string objectId, FileDownload download, DateTimeOffset expiresAt);

    /// <summary>Removes the object's bytes, and any uploaded but not taken; nothing when there are none.</summary>
    Task DeleteAsync(string objectId, CancellationToken ct);

    /// <summary>
    /// For a store that receives the bytes without the API (S3): takes what was uploaded for <paramref name="objectId"/>
    /// and not taken yet; bytes of another size than <paramref name="size"/> are discarded (the upload URL may be used
    /// again); the right size become the object, fixed (a later upload to the URL cannot change them), read back to
    /// hash and sniff. The embedded store takes the bytes as they arrive (its <c>PUT</c> reports them through
    /// <see cref="IFileUploads"/>) and answers <see cref="UploadReceipt.Nothing"/>.
    /// </summary>
    Task<UploadReceipt> TakeUploadAsync(string objectId, long size, CancellationToken ct);

    /// <summary>Discards bytes uploaded for <paramref name="objectId"/> and not taken (a second upload); answers whether there were any.</summary>
    Task<bool> DiscardUploadAsync(string objectId, CancellationToken ct);

    /// <summary>Opens an object's bytes for reading (a thumbnail's source); null when there are none.</summary>
    Task<Stream?> OpenReadAsync(string objectId, CancellationToken ct);

    /// <summary>Stores <paramref name="bytes"/> as the object <paramref name="objectId"/> (a thumbnail), replacing any.</summary>
    Task PutAsync(string objectId, ReadOnlyMemory<byte> bytes, CancellationToken ct);
}

/// <summary>The object store did not answer (or answered an error): 503 <c>unavailable</c>, nothing recorded; the caller may try again.</summary>
public sealed class ObjectStoreUnavailable(string detail, Exception inner) : ProblemException(503, ErrorCodes.Unavailable, detail)
{
    public Exception Cause { get; } = inner;
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
