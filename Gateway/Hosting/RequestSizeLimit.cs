using Microsoft.AspNetCore.Http.Features;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>
/// Bodies over 1 MiB get 413 <c>payload_too_large</c>, whether or not the server underneath enforces its own limit
/// (Kestrel does; in-process test servers do not), with or without a Content-Length. Uploads to the embedded object
/// store are the one exception: their signed URL fixes their size, and the store's endpoint enforces it.
/// </summary>
internal static class RequestSizeLimit
{
    public const long MaxBodyBytes = 1024 * 1024;

    public static IApplicationBuilder UseRequestSizeLimit(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (Files.ObjectEndpoints.IsUpload(http.Request))
        {
            await next(http);
            return;
        }
        if (http.Request.ContentLength > MaxBodyBytes)
        {
            throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = MaxBodyBytes;
        }
        else if (http.Request.ContentLength is null)
        {
            http.Request.Body = new LimitedStream(http.Request.Body, MaxBodyBytes);
        }
        await next(http);
    });

    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge) : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
