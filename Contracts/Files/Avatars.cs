using System.Security.Cryptography;
using System.Text;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Contracts.Files;

/// <summary>An avatar as the write side and the profiles read model keep it: the source file, its hash and the stored sizes.</summary>
public sealed record AvatarFacts(string FileId, string Sha256, IReadOnlyList<AvatarImage> Images);

/// <summary>
/// Makes an avatar of an uploaded image already in the object store: the centred square, turned upright as its EXIF
/// orientation says, in each of <see cref="Avatars.Sizes"/>, encoded as WebP and stored under
/// <see cref="Avatars.ObjectIdOf"/>. Null when the bytes are not an image it can read (undecodable, too large, or
/// declaring more pixels than <see cref="FileSettings.ThumbnailMaxPixels"/>).
/// </summary>
public interface IAvatarImages
{
    Task<IReadOnlyList<AvatarImage>?> MakeAsync(string fileId, long size, CancellationToken ct);
}

/// <summary>Where an avatar's sizes live, and their signed URLs.</summary>
public static class Avatars
{
    /// <summary>The sizes stored, in pixels (square): list rows, message authors, profile cards, full size.</summary>
    public static readonly IReadOnlyList<int> Sizes = [32, 72, 192, 512];

    /// <summary>The size <c>avatarUrl</c> names (API.md's one field); <c>avatarUrls</c> has every size.</summary>
    public const int DefaultSize = 192;

    public const string ContentType = "image/webp";

    /// <summary>
    /// One size's object id, derived from the source file's (32 lower-case hex digits, like every object id); a thumbnail
    /// or a file never has the same, so deleting a file's bytes (the sweep of files never attached) leaves its avatar.
    /// </summary>
    public static string ObjectIdOf(string fileId, int size) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"avatar:{fileId}:{size}")))[..32];

    /// <summary>
    /// Signed URLs of every size, by size (<c>"32"</c>, ...). They expire at the end of the next whole
    /// <paramref name="lifetime"/> window (between one and two lifetimes from now), so a URL stays the same for a whole
    /// window on a store that signs deterministically (the embedded one) and browsers reuse what they cached.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Sign(IObjectStore objects, IReadOnlyList<AvatarImage> images, DateTimeOffset now, TimeSpan lifetime)
    {
        var window = Math.Max(TimeSpan.TicksPerSecond, lifetime.Ticks);
        var expiresAt = new DateTimeOffset((now.UtcTicks / window + 2) * window, TimeSpan.Zero);
        return images.ToDictionary(
            i => i.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            i => objects.SignDownload(i.ObjectId, new FileDownload($"avatar-{i.Size}.webp", ContentType), expiresAt));
    }

    /// <summary>The URL of <see cref="DefaultSize"/> (or the largest there is).</summary>
    public static string? DefaultOf(IReadOnlyDictionary<string, string>? urls) =>
        urls is null ? null
        : urls.TryGetValue(DefaultSize.ToString(System.Globalization.CultureInfo.InvariantCulture), out var url) ? url
        : urls.Values.LastOrDefault();

    /// <summary>Deletes every size of an avatar (nothing for those not there).</summary>
    public static async Task DeleteAsync(this IObjectStore objects, AvatarFacts avatar, CancellationToken ct)
    {
        foreach (var image in avatar.Images)
        {
            await objects.DeleteAsync(image.ObjectId, ct);
        }
    }
}
