using System.Buffers;
using System.Security.Cryptography;
using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.Gateway.Files;

/// <summary>What a stream of a file's bytes held: how many, their SHA-256 (lower-case hex) and the type found in the first ones.</summary>
public sealed record Digest(long Size, string Sha256, string ContentType);

/// <summary>
/// Reads a file's bytes in 64 KiB pieces, hashing and sniffing them as they go (and copying them to a sink if given), so
/// memory stays flat whatever the size. Used by both stores: the embedded one as an upload arrives, S3's when it reads
/// an upload back.
/// </summary>
public static class StreamDigest
{
    public const int BufferBytes = 64 * 1024;

    /// <summary>Reads <paramref name="source"/> to its end, or stops one piece past <paramref name="limit"/> bytes (then the size is over it and nothing else is set).</summary>
    public static async Task<Digest> ReadAsync(Stream source, Stream? sink, long limit, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        var head = new byte[FileTypes.SniffBytes];
        var headLength = 0;
        long total = 0;
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferBytes), ct)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    return new Digest(total, "", "");
                }
                if (headLength < head.Length)
                {
                    var take = Math.Min(read, head.Length - headLength);
                    buffer.AsSpan(0, take).CopyTo(head.AsSpan(headLength));
                    headLength += take;
                }
                hash.AppendData(buffer, 0, read);
                if (sink is not null)
                {
                    await sink.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new Digest(total, Convert.ToHexStringLower(hash.GetHashAndReset()), FileTypes.Sniff(head.AsSpan(0, headLength)));
    }
}
