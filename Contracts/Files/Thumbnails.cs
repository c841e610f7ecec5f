using System.Security.Cryptography;
using System.Text;

namespace EventSourcedChat.Contracts.Files;

/// <summary>
/// An image's thumbnail, an object of its own in the object store (so it is served, signed and deleted like any file,
/// on either store): its object id, its size in pixels and its type.
/// </summary>
public sealed record Thumbnail(string ObjectId, int Width, int Height, string ContentType);

/// <summary>What decoding an uploaded image found: its dimensions and the thumbnail made of it.</summary>
public sealed record ImageFacts(int Width, int Height, Thumbnail Thumbnail);

/// <summary>
/// Makes the thumbnail of an uploaded image (PNG, JPEG, GIF, WebP) already in the object store, and stores it there. Never
/// throws for a bad image: an image that cannot be decoded, is larger than allowed, or declares more pixels than
/// <see cref="FileSettings.ThumbnailMaxPixels"/> (a decompression bomb) gets none (null), and its upload goes on.
/// </summary>
public interface IImageThumbnails
{
    Task<ImageFacts?> MakeAsync(string fileId, string contentType, long size, CancellationToken ct);
}

/// <summary>Where a file's thumbnail lives, and deleting a file with it.</summary>
public static class Thumbnails
{
    /// <summary>
    /// The thumbnail's object id, derived from the file's (32 lower-case hex digits, like every object id), so whatever
    /// deletes a file's bytes deletes its thumbnail too without having to look it up.
    /// </summary>
    public static string ObjectIdOf(string fileId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("thumbnail:" + fileId)))[..32];

    /// <summary>Deletes a file's bytes and its thumbnail (nothing for either when not there).</summary>
    public static async Task DeleteFileAsync(this IObjectStore objects, string fileId, CancellationToken ct)
    {
        await objects.DeleteAsync(fileId, ct);
        await objects.DeleteAsync(ObjectIdOf(fileId), ct);
    }

    /// <summary>The name a thumbnail downloads under: the file's name with the thumbnail's extension.</summary>
    public static string NameFor(string fileName, Thumbnail thumbnail) =>
        $"{Path.GetFileNameWithoutExtension(fileName)}-thumbnail{(thumbnail.ContentType == "image/webp" ? ".webp" : thumbnail.ContentType == "image/png" ? ".png" : ".jpg")}";
}
