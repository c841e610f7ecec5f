using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using SkiaSharp;

namespace EventSourcedChat.Gateway.Files;

/// <summary>
/// Avatars of uploaded images with SkiaSharp, as <see cref="ImageThumbnails"/> makes thumbnails (header first, no decode
/// past <see cref="FileSettings.ThumbnailMaxPixels"/>, a reduced-scale decode where the codec can, at most one decode per
/// core): the centred square of the picture, in each of <see cref="Avatars.Sizes"/> (smaller pictures are scaled up),
/// turned upright as its EXIF orientation says, encoded as WebP. The centre of a picture stays its centre when it is
/// turned, so the square is cut from the stored pixels and turned after.
/// </summary>
public sealed class AvatarImages(IObjectStore objects, FileSettings settings, ILogger<AvatarImages> logger) : IAvatarImages
{
    private const int Quality = 85;


    public async Task<IReadOnlyList<AvatarImage>?> MakeAsync(string fileId, long size, CancellationToken ct)
    {
        if (size > settings.ThumbnailMaxSourceBytes)
        {
            return null;
        }
        if (await ImageDecoding.ReadAllAsync(objects, fileId, size, ct) is not { } source)
        {
            return null;
        }
        IReadOnlyList<(int Size, byte[] Bytes)>? made;
        await ImageDecoding.Slots.WaitAsync(ct);
        try
        {
            made = Make(source, settings.ThumbnailMaxPixels, Avatars.Sizes);
        }
        finally
        {
            ImageDecoding.Slots.Release();
        }
        if (made is null)
        {
            logger.LogInformation("No avatar from {FileId}: it does not decode, or declares too many pixels", fileId);
            return null;
        }
        var images = new List<AvatarImage>();
        foreach (var (side, bytes) in made)
        {
            var image = new AvatarImage(side, Avatars.ObjectIdOf(fileId, side));
            await objects.PutAsync(image.ObjectId, bytes, ct);
            images.Add(image);
        }
        return images;
    }

    /// <summary>The WebP bytes of each size, or null when the image does not decode whole or declares more than <paramref name="maxPixels"/>.</summary>
    public static IReadOnlyList<(int Size, byte[] Bytes)>? Make(byte[] image, long maxPixels, IReadOnlyList<int> sizes)
    {
        if (image.Length == 0)
        {
            return null;
        }
        using var data = SKData.CreateCopy(image);
        using var codec = SKCodec.Create(data);
        if (codec is null || codec.Info.Width <= 0 || codec.Info.Height <= 0 || (long)codec.Info.Width * codec.Info.Height > maxPixels)
        {
            return null;
        }
        var largest = sizes.Max();
        var side = Math.Min(codec.Info.Width, codec.Info.Height);
        using var decoded = ImageDecoding.Decode(codec, Math.Min(1f, (float)largest / side));
        if (decoded is null)
        {
            return null;
        }
        var square = Math.Min(decoded.Width, decoded.Height);
        var crop = SKRectI.Create((decoded.Width - square) / 2, (decoded.Height - square) / 2, square, square);
        using var cropped = new SKBitmap(new SKImageInfo(square, square, SKColorType.Rgba8888, SKAlphaType.Premul));
        if (!decoded.ExtractSubset(cropped, crop))
        {
            return null;
        }
        var result = new List<(int, byte[])>();
        foreach (var target in sizes)
        {
            using var scaled = cropped.Resize(new SKImageInfo(target, target, SKColorType.Rgba8888, SKAlphaType.Premul),
                new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
            if (scaled is null)
            {
                return null;
            }
            using var upright = ImageDecoding.Upright(scaled, codec.EncodedOrigin);
            using var encoded = upright.Encode(SKEncodedImageFormat.Webp, Quality);
            if (encoded is null)
            {
                return null;
            }
            result.Add((target, encoded.ToArray()));
        }
        return result;
    }
}
