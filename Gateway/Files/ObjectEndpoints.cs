using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Files;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace EventSourcedChat.Gateway.Files;

/// <summary>
/// The embedded store's URLs: <c>PUT</c> and <c>GET /v1/objects/{objectId}</c>, authorized by their signature alone (no
/// bearer token: the URL is the grant). A missing, wrong or expired signature is 403 <c>forbidden</c>. An upload is
/// streamed to disk in 64 KiB pieces while its SHA-256 is computed (<see cref="StreamDigest"/>), so memory stays flat
/// whatever the size; a download
/// is served from disk with range requests.
/// </summary>
public static class ObjectEndpoints
{
    public const string Path = "/v1/objects";

    public static IEndpointRouteBuilder MapObjects(this IEndpointRouteBuilder app)
    {
        var objects = app.MapGroup(Path).AllowAnonymous().WithTags("Objects")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        objects.MapPut("/{objectId}", PutAsync).WithName("UploadObject").Produces<UploadedObject>();
        objects.MapGet("/{objectId}", Get).WithName("DownloadObject");
        return app;
    }

    /// <summary>Whether a request is an upload to this store: the one kind of request allowed a body over 1 MiB.</summary>
    public static bool IsUpload(HttpRequest request) => HttpMethods.IsPut(request.Method) && request.Path.StartsWithSegments(Path);

    private static bool IsId(string id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    private static IResult Problem(int status, string code, string detail) => Results.Problem(
        statusCode: status, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });

    private static IResult Forbidden(string detail) => Problem(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, detail);

    private static IResult? Refusal(string objectId, long? exp, bool signed)
    {
        if (!IsId(objectId) || exp is null || !signed)
        {
            return Forbidden("The URL's signature is missing or does not match.");
        }
        return DateTimeOffset.UtcNow.ToUnixTimeSeconds() > exp ? Forbidden("The URL has expired.") : null;
    }

    private static async Task<IResult> PutAsync(
        string objectId, long? exp, long? size, string? sig, HttpContext http, LocalObjectStore store, IFileUploads uploads, CancellationToken ct)
    {
        var signed = exp is { } e && size is > 0 && store.Signer.Verify("PUT", objectId, e, LocalObjectStore.UploadParts(size.Value), sig);
        if (Refusal(objectId, exp, signed) is { } refused)
        {
            return refused;
        }
        var expected = size!.Value;
        if (http.Request.ContentLength is { } length && length != expected)
        {
            return length > expected
                ? Problem(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, $"This URL takes exactly {expected} bytes.")
                : Problem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, $"This URL takes exactly {expected} bytes.");
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = expected;
        }
        var incoming = store.IncomingPath();
        try
        {
            var received = await ReceiveAsync(http.Request.Body, incoming, expected, ct);
            if (received.Size != expected)
            {
                return received.Size > expected
                    ? Problem(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, $"This URL takes exactly {expected} bytes.")
                    : Problem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, $"This URL takes exactly {expected} bytes; {received.Size} came.");
            }
            var target = store.PathOf(objectId);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            try
            {
                File.Move(incoming, target, overwrite: false);
            }
            catch (IOException) when (File.Exists(target))
            {
                return Problem(StatusCodes.Status409Conflict, ErrorCodes.Conflict, "This file's bytes were already uploaded.");
            }
            if (!await uploads.CompleteAsync(objectId, received.Size, received.Sha256, received.ContentType, ct))
            {
                File.Delete(target);
                return Problem(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No upload of this file is waiting for its bytes.");
            }
            return Results.Ok(new UploadedObject(objectId, received.Size, received.Sha256, received.ContentType));
        }
        finally
        {
            File.Delete(incoming); // nothing when it was moved
        }
    }

    /// <summary>Copies the body to <paramref name="path"/>, hashing and sniffing as it goes; stops one piece past <paramref name="limit"/>.</summary>
    private static async Task<Digest> ReceiveAsync(Stream body, string path, long limit, CancellationToken ct)
    {
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
            return await StreamDigest.ReadAsync(body, file, limit, ct);
        }
        catch (BadHttpRequestException b) when (b.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new Digest(limit + 1, "", ""); // the server's own body limit stopped it
        }
    }

    private static IResult Get(string objectId, long? exp, string? name, string? type, string? sig, HttpContext http, LocalObjectStore store)
    {
        var signed = exp is { } e && name is not null && type is not null
            && store.Signer.Verify("GET", objectId, e, LocalObjectStore.DownloadParts(name, type), sig);
        if (Refusal(objectId, exp, signed) is { } refused)
        {
            return refused;
        }
        var path = store.PathOf(objectId);
        if (!File.Exists(path))
        {
            return Problem(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "The file does not exist.");
        }
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        headers.CacheControl = "private, max-age=300";
        var inline = FileTypes.ShowsInline(type!);
        var disposition = new ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        disposition.SetHttpFileName(name);
        headers.ContentDisposition = disposition.ToString();
        return Results.File(path, inline ? type : FileTypes.OctetStream, enableRangeProcessing: true);
    }
}
