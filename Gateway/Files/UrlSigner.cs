using System.Security.Cryptography;
using System.Text;

namespace EventSourcedChat.Gateway.Files;

/// <summary>
/// HMAC-SHA256 signatures of object URLs, over the method, the object id, the expiry (Unix seconds) and what else the
/// URL fixes (the upload's size; the download's name and type), like an S3 pre-signed URL. The key is
/// <c>Files:SigningKey</c> (base64, at least 32 bytes; the same on every node), or a random one per process when unset.
/// </summary>
public sealed class UrlSigner(byte[] key)
{
    public const string KeySetting = "Files:SigningKey";

    public static UrlSigner From(IConfiguration configuration)
    {
        if (configuration[KeySetting] is not { Length: > 0 } text)
        {
            return new UrlSigner(RandomNumberGenerator.GetBytes(32));
        }
        var bytes = Convert.FromBase64String(text);
        return bytes.Length >= 32 ? new UrlSigner(bytes) : throw new InvalidOperationException($"{KeySetting} must hold at least 32 bytes (base64).");
    }

    public string Sign(string method, string objectId, long expires, string fixedParts) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{method}\n{objectId}\n{expires}\n{fixedParts}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public bool Verify(string method, string objectId, long expires, string fixedParts, string? signature) =>
        signature is { Length: > 0 } && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Sign(method, objectId, expires, fixedParts)), Encoding.ASCII.GetBytes(signature));
}
