using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using EventSourcedChat.Contracts.Files;
using Microsoft.Net.Http.Headers;

namespace EventSourcedChat.Gateway.Files;

/// <summary>
/// The S3 object store (AWS S3 or an S3-compatible server): genuine pre-signed URLs, so a file's bytes go from the client
/// to the store and back without passing through the API nodes. An upload lands under <c>incoming/{id}</c>; its
/// completion (<see cref="TakeUploadAsync"/>) checks its size, copies it inside the store to <c>objects/{id}</c> (which
/// no URL can write) and reads that back to hash and sniff it; downloads are signed for <c>objects/{id}</c> with the
/// response's type and disposition fixed in the signature.
/// </summary>
public sealed class S3ObjectStore(IAmazonS3 s3, S3Settings settings, ILogger<S3ObjectStore> logger) : IObjectStore
{
    public const string IncomingPrefix = "incoming/";
    public const string ObjectsPrefix = "objects/";

    private readonly Protocol _protocol = settings.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS;

    public static AmazonS3Client CreateClient(S3Settings settings)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = settings.ForcePathStyle,
            AuthenticationRegion = settings.Region,
            // S3-compatible servers do not all know the SDK's newer default checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.ServiceUrl is { Length: > 0 } url)
        {
            config.ServiceURL = url;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(settings.Region);
        }
        var client = settings.AccessKey is { Length: > 0 } key
            ? new AmazonS3Client(new BasicAWSCredentials(key, settings.SecretKey ?? ""), config)
            : new AmazonS3Client(config);
        client.BeforeRequestEvent += KeepCopySourceSlashes;
        return client;
    }

    /// <summary>
    /// The SDK sends <c>x-amz-copy-source</c> fully encoded (<c>bucket%2Fincoming%2F{id}</c>); S3 takes that or the
    /// slashes as they are, but s3rver only the latter. Rewritten before the request is signed, so the signature
    /// covers what is sent; the keys here are ids and fixed prefixes, nothing else to encode.
    /// </summary>
    private static void KeepCopySourceSlashes(object sender, RequestEventArgs e)
    {
        if (e is WebServiceRequestEventArgs { Headers: { } headers } && headers.TryGetValue(CopySourceHeader, out var source))
        {
            headers[CopySourceHeader] = source.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        }
    }

    private const string CopySourceHeader = "x-amz-copy-source";

    public static string IncomingKey(string objectId) => IncomingPrefix + objectId;

    public static string ObjectKey(string objectId) => ObjectsPrefix + objectId;

    public SignedUpload SignUpload(string objectId, long size, DateTimeOffset expiresAt)
    {
        var expires = Seconds(expiresAt);
        var url = s3.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = settings.Bucket, Key = IncomingKey(objectId), Verb = HttpVerb.PUT, Expires = expires.UtcDateTime,
            ContentType = FileTypes.OctetStream, Protocol = _protocol,
        });
        return new SignedUpload(url, "PUT", new Dictionary<string, string> { ["Content-Type"] = FileTypes.OctetStream }, expires);
    }

    public string SignDownload(string objectId, FileDownload download, DateTimeOffset expiresAt)
    {
        var disposition = new ContentDispositionHeaderValue(download.Inline ? "inline" : "attachment");
        disposition.SetHttpFileName(download.Name);
        var request = new GetPreSignedUrlRequest
        {
            BucketName = settings.Bucket, Key = ObjectKey(objectId), Verb = HttpVerb.GET, Expires = Seconds(expiresAt).UtcDateTime, Protocol = _protocol,
        };
        request.ResponseHeaderOverrides.ContentType = download.Inline ? download.ContentType : FileTypes.OctetStream;
        request.ResponseHeaderOverrides.ContentDisposition = disposition.ToString();
        request.ResponseHeaderOverrides.CacheControl = "private, max-age=300";
        return s3.GetPreSignedURL(request);
    }

    public Task DeleteAsync(string objectId, CancellationToken ct) => Calling(async () =>
    {
        await s3.DeleteObjectAsync(settings.Bucket, ObjectKey(objectId), ct);
        await s3.DeleteObjectAsync(settings.Bucket, IncomingKey(objectId), ct);
        return true;
    });

    public Task<UploadReceipt> TakeUploadAsync(string objectId, long size, CancellationToken ct) => Calling(async () =>
    {
        if (await SizeOfAsync(IncomingKey(objectId), ct) is { } uploaded)
        {
            if (uploaded != size)
            {
                await s3.DeleteObjectAsync(settings.Bucket, IncomingKey(objectId), ct);
                return new UploadReceipt(UploadOutcome.WrongSize, uploaded);
            }
            // Inside the store: the bytes never come through this node to be copied, only to be read once, below.
            await s3.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = settings.Bucket, SourceKey = IncomingKey(objectId),
                DestinationBucket = settings.Bucket, DestinationKey = ObjectKey(objectId),
            }, ct);
            await s3.DeleteObjectAsync(settings.Bucket, IncomingKey(objectId), ct);
        }
        else if (await SizeOfAsync(ObjectKey(objectId), ct) is null)
        {
            return UploadReceipt.Nothing;
        }
        // else: an earlier completion copied the bytes and failed before they were recorded; they are taken from the copy.
        // What is hashed is the copy, which no URL can write: the hash is that of the bytes served from now on.
        Digest digest;
        using (var response = await s3.GetObjectAsync(settings.Bucket, ObjectKey(objectId), ct))
        await using (var body = response.ResponseStream)
        {
            digest = await StreamDigest.ReadAsync(body, null, size, ct);
        }
        if (digest.Size != size) // replaced by an upload of another size between the size check and the copy
        {
            await s3.DeleteObjectAsync(settings.Bucket, ObjectKey(objectId), ct);
            return new UploadReceipt(UploadOutcome.WrongSize, digest.Size);
        }
        return new UploadReceipt(UploadOutcome.Received, digest.Size, digest.Sha256, digest.ContentType);
    });

    public Task<bool> DiscardUploadAsync(string objectId, CancellationToken ct) => Calling(async () =>
    {
        if (await SizeOfAsync(IncomingKey(objectId), ct) is null)
        {
            return false;
        }
        await s3.DeleteObjectAsync(settings.Bucket, IncomingKey(objectId), ct);
        return true;
    });

    /// <summary>The object's bytes, read into memory (a thumbnail's source: the caller bounds the size it asks for).</summary>
    public Task<Stream?> OpenReadAsync(string objectId, CancellationToken ct) => Calling(async () =>
    {
        try
        {
            using var response = await s3.GetObjectAsync(settings.Bucket, ObjectKey(objectId), ct);
            await using var body = response.ResponseStream;
            var copy = new MemoryStream(response.ContentLength is > 0 and < int.MaxValue ? (int)response.ContentLength : 0);
            await body.CopyToAsync(copy, ct);
            copy.Position = 0;
            return (Stream?)copy;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    });

    public Task PutAsync(string objectId, ReadOnlyMemory<byte> bytes, CancellationToken ct) => Calling(async () =>
    {
        using var body = new MemoryStream(bytes.ToArray(), writable: false);
        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = settings.Bucket, Key = ObjectKey(objectId), InputStream = body, ContentType = FileTypes.OctetStream, UseChunkEncoding = false,
        }, ct);
        return true;
    });

    /// <summary>Whether the object's bytes are in the store (the tests' check of a sweep).</summary>
    public async Task<bool> ExistsAsync(string objectId, CancellationToken ct) => await Calling(() => SizeOfAsync(ObjectKey(objectId), ct)) is not null;

    private async Task<long?> SizeOfAsync(string key, CancellationToken ct)
    {
        try
        {
            return (await s3.GetObjectMetadataAsync(settings.Bucket, key, ct)).ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>URLs carry whole seconds, as the embedded store's do.</summary>
    private static DateTimeOffset Seconds(DateTimeOffset at) => DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds());

    private async Task<T> Calling<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            logger.LogWarning(e, "The S3 store at {ServiceUrl} (bucket {Bucket}) failed", settings.ServiceUrl ?? settings.Region, settings.Bucket);
            throw new ObjectStoreUnavailable("The file store did not answer as expected; try again.", e);
        }
    }
}
