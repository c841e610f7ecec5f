using System.Security.Cryptography;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>A stream of <paramref name="length"/> pattern bytes, made as it is read: nothing holds the whole file.</summary>
public sealed class PatternStream(long length) : Stream
{
    private long _position;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(count, length - _position);
        for (var i = 0; i < n; i++)
        {
            buffer[offset + i] = (byte)('a' + (_position + i) % 26);
        }
        _position += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>The SHA-256 (lower-case hex) of a stream read to its end in 64 KiB pieces; disposes it.</summary>
    public static async Task<string> Sha256Async(Stream stream)
    {
        await using (stream)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }
}
