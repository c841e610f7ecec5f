using EventSourcedChat.Contracts.Files;
using SkiaSharp;

namespace EventSourcedChat.Gateway.Files;

/// <summary>Why an image got no thumbnail, or that it got one.</summary>
public enum ThumbnailOutcome { Made, TooLarge, TooManyPixels, Undecodable }

/// <summary>What <see cref="ImageThumbnails.Make"/> found: the image's size and the thumbnail's bytes (WebP) when made.</summary>
public sealed record ThumbnailAttempt(ThumbnailOutcome Outcome, int Width = 0, int Height = 0, int ThumbWidth = 0, int ThumbHeight = 0, byte[]? Bytes = null);

/// <summary>
/// Thumbnails of uploaded images with SkiaSharp (Skia's own decoders: libpng, libjpeg-turbo, giflib, libwebp): the header
/// is read first and an image declaring more than <see cref="FileSettings.ThumbnailMaxPixels"/> is never decoded (a
/// decompression bomb); JPEG and WebP are decoded straight at a reduced scale where the codec can; the result is scaled
/// to at most <see cref="FileSettings.ThumbnailMaxSide"/> on its longest side and encoded as WebP. The thumbnail is stored
/// through the object store under <see cref="Thumbnails.ObjectIdOf"/>. At most as many decodes run at once as there are
/// cores, avatars included (<see cref="ImageDecoding.Slots"/>), so memory stays bounded whatever the number of uploads completing together.
/// </summary>
public sealed class ImageThumbnails(IObjectStore objects, FileSettings settings, ILogger<ImageThumbnails> logger) : IImageThumbnails
{
    public const string ContentType = "image/webp";
    private const int Quality = 80;


    public async Task<ImageFacts?> MakeAsync(string fileId, string contentType, long size, CancellationToken ct)
    {
        if (size > settings.ThumbnailMaxSourceBytes)
        {
            logger.LogInformation("No thumbnail for {FileId}: {Size} bytes is over the limit", fileId, size);
            return null;
        }
        try
        {
            if (await ImageDecoding.ReadAllAsync(objects, fileId, size, ct) is not { } source)
            {
                return null;
            }
            ThumbnailAttempt attempt;
            await ImageDecoding.Slots.WaitAsync(ct);
            try
            {
                attempt = Make(source, settings);
            }
            finally
            {
                ImageDecoding.Slots.Release();
            }
            if (attempt.Outcome != ThumbnailOutcome.Made)
            {
                logger.LogInformation("No thumbnail for {FileId} ({ContentType}): {Outcome}", fileId, contentType, attempt.Outcome);
                return null;
            }
            var thumbnail = new Thumbnail(Thumbnails.ObjectIdOf(fileId), attempt.ThumbWidth, attempt.ThumbHeight, ContentType);
            await objects.PutAsync(thumbnail.ObjectId, attempt.Bytes!, ct);
            return new ImageFacts(attempt.Width, attempt.Height, thumbnail);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Never fails the upload: the image is shared as a file without a thumbnail.
            logger.LogWarning(e, "No thumbnail for {FileId} ({ContentType}): making it failed", fileId, contentType);
            return null;
        }
    }

    /// <summary>Decodes <paramref name="image"/> (header first) and makes its thumbnail; never throws for bad bytes.</summary>
    public static ThumbnailAttempt Make(byte[] image, FileSettings settings)
    {
        if (image.LongLength > settings.ThumbnailMaxSourceBytes)
        {
            return new ThumbnailAttempt(ThumbnailOutcome.TooLarge);
        }
        if (image.Length == 0)
        {
            return new ThumbnailAttempt(ThumbnailOutcome.Undecodable);
        }
        using var data = SKData.CreateCopy(image);
        using var codec = SKCodec.Create(data);
        if (codec is null || codec.Info.Width <= 0 || codec.Info.Height <= 0)
        {
            return new ThumbnailAttempt(ThumbnailOutcome.Undecodable);
        }
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if ((long)width * height > settings.ThumbnailMaxPixels)
        {
            return new ThumbnailAttempt(ThumbnailOutcome.TooManyPixels, width, height);
        }
        var (thumbWidth, thumbHeight) = Fit(width, height, settings.ThumbnailMaxSide);
        using var decoded = ImageDecoding.Decode(codec, (float)thumbWidth / width);
        if (decoded is null)
        {
            return new ThumbnailAttempt(ThumbnailOutcome.Undecodable, width, height);
        }
        var same = decoded.Width == thumbWidth && decoded.Height == thumbHeight;
        var scaled = same ? decoded : decoded.Resize(
            new SKImageInfo(thumbWidth, thumbHeight, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        try
        {
            if (scaled is null)
            {
                return new ThumbnailAttempt(ThumbnailOutcome.Undecodable, width, height);
            }
            // A photo stored sideways (EXIF orientation) is shown upright by browsers: its thumbnail and its sizes too.
            using var upright = ImageDecoding.Upright(scaled, codec.EncodedOrigin);
            if (ImageDecoding.SwapsSides(codec.EncodedOrigin))
            {
                (width, height, thumbWidth, thumbHeight) = (height, width, thumbHeight, thumbWidth);
            }
            using var encoded = upright.Encode(SKEncodedImageFormat.Webp, Quality);
            return encoded is null
                ? new ThumbnailAttempt(ThumbnailOutcome.Undecodable, width, height)
                : new ThumbnailAttempt(ThumbnailOutcome.Made, width, height, thumbWidth, thumbHeight, encoded.ToArray());
        }
        finally
        {
            if (!same)
            {
                scaled?.Dispose();
            }
        }
    }

    /// <summary>The thumbnail's size: the longest side at most <paramref name="maxSide"/>, the aspect kept, at least 1 px each way.</summary>
    public static (int Width, int Height) Fit(int width, int height, int maxSide)
    {
        var scale = Math.Min(1.0, (double)maxSide / Math.Max(width, height));
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }
}
