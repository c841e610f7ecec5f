using EventSourcedChat.Contracts.Files;
using Microsoft.AspNetCore.WebUtilities;

namespace EventSourcedChat.Gateway.Files;

/// <summary>
/// The embedded object store: files on local disk under <c>Files:Local:Root</c> (by default <c>.data/files</c> of the
/// content root), received and served by this host's <see cref="ObjectEndpoints"/> through URLs it signs
/// (<see cref="UrlSigner"/>). URLs are relative to the API's origin. Bytes arrive in <c>incoming/</c> and are renamed
/// into <c>objects/{first two hex digits}/{id}</c> once complete, so a reader never sees a partial object.
/// </summary>
public sealed class LocalObjectStore : IObjectStore
{
    public const string RootSetting = "Files:Local:Root";

    private readonly UrlSigner _signer;
    private readonly string _objects;
    private readonly string _incoming;

    public LocalObjectStore(string root, UrlSigner signer)
    {
        _signer = signer;
        _objects = Path.Combine(root, "objects");
        _incoming = Path.Combine(root, "incoming");
        Directory.CreateDirectory(_objects);
        Directory.CreateDirectory(_incoming);
    }

    public UrlSigner Signer => _signer;

    public SignedUpload SignUpload(string objectId, long size, DateTimeOffset expiresAt)
    {
        var exp = expiresAt.ToUnixTimeSeconds();
        var sig = _signer.Sign("PUT", objectId, exp, UploadParts(size));
        var url = QueryHelpers.AddQueryString($"{ObjectEndpoints.Path}/{objectId}",
            new Dictionary<string, string?> { ["exp"] = $"{exp}", ["size"] = $"{size}", ["sig"] = sig });
        return new SignedUpload(url, "PUT", new Dictionary<string, string> { ["Content-Type"] = FileTypes.OctetStream }, DateTimeOffset.FromUnixTimeSeconds(exp));
    }

    public string SignDownload(string objectId, FileDownload download, DateTimeOffset expiresAt)
    {
        var exp = expiresAt.ToUnixTimeSeconds();
        var sig = _signer.Sign("GET", objectId, exp, DownloadParts(download.Name, download.ContentType));
        return QueryHelpers.AddQueryString($"{ObjectEndpoints.Path}/{objectId}", new Dictionary<string, string?>
        {
            ["exp"] = $"{exp}", ["name"] = download.Name, ["type"] = download.ContentType, ["sig"] = sig,
        });
    }

    public Task DeleteAsync(string objectId, CancellationToken ct)
    {
        var path = PathOf(objectId);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        return Task.CompletedTask;
    }

    /// <summary>Nothing to take: this store takes an upload's bytes as they arrive, and its <c>PUT</c> reports them.</summary>
    public Task<UploadReceipt> TakeUploadAsync(string objectId, long size, CancellationToken ct) => Task.FromResult(UploadReceipt.Nothing);

    /// <summary>Never any: a second upload to this store is refused as it arrives (409).</summary>
    public Task<bool> DiscardUploadAsync(string objectId, CancellationToken ct) => Task.FromResult(false);

    public Task<Stream?> OpenReadAsync(string objectId, CancellationToken ct)
    {
        var path = PathOf(objectId);
        return Task.FromResult<Stream?>(File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous) : null);
    }

    /// <summary>Written beside the objects and renamed into place, so a reader never sees a partial object.</summary>
    public async Task PutAsync(string objectId, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var incoming = IncomingPath();
        try
        {
            await File.WriteAllBytesAsync(incoming, bytes, ct);
            var target = PathOf(objectId);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(incoming, target, overwrite: true);
        }
        finally
        {
            File.Delete(incoming); // nothing when it was moved
        }
    }

    public static string UploadParts(long size) => $"{size}";

    public static string DownloadParts(string name, string contentType) => $"{name}\n{contentType}";

    /// <summary>Where an object's bytes live (ids are 32 lower-case hex digits: checked by the caller).</summary>
    public string PathOf(string objectId) => Path.Combine(_objects, objectId[..2], objectId);

    /// <summary>A new file to receive an upload into.</summary>
    public string IncomingPath() => Path.Combine(_incoming, Guid.NewGuid().ToString("N"));
}
