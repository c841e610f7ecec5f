using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>Real image bytes made in the test: encoded by SkiaSharp, or built by hand where no encoder would (a bomb's header).</summary>
public static class TestImages
{
    /// <summary>A <paramref name="width"/> x <paramref name="height"/> image of a gradient, encoded as <paramref name="format"/>.</summary>
    public static byte[] Encode(int width, int height, SKEncodedImageFormat format, int quality = 90)
    {
        using var bitmap = new SKBitmap(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), 128));
            }
        }
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] Png(int width, int height) => Encode(width, height, SKEncodedImageFormat.Png);

    public static byte[] Jpeg(int width, int height) => Encode(width, height, SKEncodedImageFormat.Jpeg);

    /// <summary>
    /// A decompression bomb's opening: a valid PNG header (IHDR, CRCs right) declaring <paramref name="width"/> x
    /// <paramref name="height"/> pixels of 8-bit RGBA, then a few bytes of data and the end. Decoding it whole would
    /// allocate width x height x 4 bytes.
    /// </summary>
    public static byte[] BombPng(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 6; // RGBA
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]); // a zlib stream of one zero byte
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        png.Write(word);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }
        return ~crc;
    }

    /// <summary>A <paramref name="width"/> x <paramref name="height"/> image of vertical bands of equal width, one per colour, left to right.</summary>
    public static byte[] Bands(int width, int height, SKEncodedImageFormat format, params SKColor[] colors)
    {
        using var bitmap = new SKBitmap(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, colors[x * colors.Length / width]);
            }
        }
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    /// <summary>
    /// A JPEG with an EXIF block (APP1, right after the start of image) whose only tag is the orientation
    /// (<c>0x0112</c>): 6 says the stored pixels are to be turned 90 degrees clockwise to stand upright.
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, first IFD at 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, (byte)(orientation >> 8), (byte)orientation, 0x00, 0x00, // orientation, SHORT, 1
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var length = payload.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }

    /// <summary>The colour of one pixel of an image's bytes (any format Skia decodes).</summary>
    public static SKColor ColorAt(byte[] image, int x, int y)
    {
        using var bitmap = SKBitmap.Decode(image) ?? throw new InvalidOperationException("not an image");
        return bitmap.GetPixel(x, y);
    }

    /// <summary>Whether <paramref name="actual"/> is <paramref name="expected"/> within lossy compression's error.</summary>
    public static bool Near(SKColor actual, SKColor expected, int tolerance = 40) =>
        Math.Abs(actual.Red - expected.Red) <= tolerance && Math.Abs(actual.Green - expected.Green) <= tolerance
        && Math.Abs(actual.Blue - expected.Blue) <= tolerance;

    /// <summary>What an image's bytes decode to: its size, or null when they do not decode.</summary>
    public static (int Width, int Height)? SizeOf(byte[] image)
    {
        using var bitmap = SKBitmap.Decode(image);
        return bitmap is null ? null : (bitmap.Width, bitmap.Height);
    }
}
