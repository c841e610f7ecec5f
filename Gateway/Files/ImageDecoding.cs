using EventSourcedChat.Contracts.Files;
using SkiaSharp;

namespace EventSourcedChat.Gateway.Files;

/// <summary>What thumbnails and avatars share: decoding the first frame at a reduced scale, and turning a picture upright.</summary>
internal static class ImageDecoding
{
    /// <summary>Decodes running at once on this node, thumbnails and avatars together: at most one per core.</summary>
    public static readonly SemaphoreSlim Slots = new(Math.Max(1, Environment.ProcessorCount));

    /// <summary>The bytes of the stored object <paramref name="objectId"/> (<paramref name="size"/> of them), or null when it is gone.</summary>
    public static async Task<byte[]?> ReadAllAsync(IObjectStore objects, string objectId, long size, CancellationToken ct)
    {
        await using var stream = await objects.OpenReadAsync(objectId, ct);
        if (stream is null)
        {
            return null;
        }
        using var copy = new MemoryStream((int)size);
        await stream.CopyToAsync(copy, ct);
        return copy.Length == copy.Capacity ? copy.GetBuffer() : copy.ToArray();
    }

    /// <summary>The first frame, at the smallest scale the codec offers that is not below <paramref name="scale"/> (whole when it offers none); null when the bytes do not decode whole.</summary>
    public static SKBitmap? Decode(SKCodec codec, float scale)
    {
        var reduced = codec.GetScaledDimensions(scale);
        SKSizeI[] sizes = reduced.Width < codec.Info.Width ? [reduced, codec.Info.Size] : [codec.Info.Size];
        foreach (var size in sizes)
        {
            var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
            var bitmap = new SKBitmap(info);
            if (codec.GetPixels(info, bitmap.GetPixels()) == SKCodecResult.Success)
            {
                return bitmap;
            }
            bitmap.Dispose();
        }
        return null;
    }

    /// <summary>Whether pictures stored with <paramref name="origin"/> stand upright with their width and height swapped.</summary>
    public static bool SwapsSides(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>
    /// <paramref name="picture"/> (stored pixels) turned as its EXIF orientation says (Skia's <c>SkEncodedOriginToMatrix</c>),
    /// a new bitmap, its sides swapped for the four orientations that turn it a quarter; a copy when it is upright already.
    /// </summary>
    public static SKBitmap Upright(SKBitmap picture, SKEncodedOrigin origin)
    {
        float w = picture.Width, h = picture.Height;
        var matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        var info = SwapsSides(origin) ? picture.Info.WithSize(picture.Height, picture.Width) : picture.Info;
        var turned = new SKBitmap(info);
        using var canvas = new SKCanvas(turned);
        canvas.Clear(SKColors.Transparent);
        canvas.SetMatrix(matrix);
        canvas.DrawBitmap(picture, 0, 0);
        return turned;
    }
}
