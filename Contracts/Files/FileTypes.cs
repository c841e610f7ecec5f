using System.Text;
using System.Text.Unicode;

namespace EventSourcedChat.Contracts.Files;

/// <summary>
/// A file's type as found in its first bytes (never the type the client declared), and which types a browser may show
/// inline: the raster images below. SVG and HTML can carry script, so they are found as such and always download.
/// </summary>
public static class FileTypes
{
    /// <summary>How many leading bytes <see cref="Sniff"/> looks at.</summary>
    public const int SniffBytes = 512;

    public const string OctetStream = "application/octet-stream";

    private static readonly HashSet<string> InlineImages = ["image/png", "image/jpeg", "image/gif", "image/webp"];

    public static bool ShowsInline(string contentType) => InlineImages.Contains(contentType);

    public static bool IsImage(string contentType) => contentType.StartsWith("image/", StringComparison.Ordinal);

    private static readonly (byte[] Magic, int Offset, string Type)[] Signatures =
    [
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], 0, "image/png"),
        ([0xFF, 0xD8, 0xFF], 0, "image/jpeg"),
        ("GIF87a"u8.ToArray(), 0, "image/gif"),
        ("GIF89a"u8.ToArray(), 0, "image/gif"),
        ("%PDF-"u8.ToArray(), 0, "application/pdf"),
        ([0x50, 0x4B, 0x03, 0x04], 0, "application/zip"),
        ([0x1F, 0x8B], 0, "application/gzip"),
    ];

    private static readonly string[] HtmlStarts = ["<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<meta", "<style", "<title", "<a ", "<div", "<img", "<!--"];

    /// <summary>The type of a file from its first bytes (up to <see cref="SniffBytes"/>).</summary>
    public static string Sniff(ReadOnlySpan<byte> head)
    {
        foreach (var (magic, offset, type) in Signatures)
        {
            if (head.Length >= offset + magic.Length && head.Slice(offset, magic.Length).SequenceEqual(magic))
            {
                return type;
            }
        }
        if (head.Length >= 12 && head[..4].SequenceEqual("RIFF"u8) && head.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }
        if (head.Contains((byte)0) || !IsUtf8Text(head))
        {
            return OctetStream;
        }
        var text = Encoding.UTF8.GetString(head).TrimStart('\uFEFF', ' ', '\t', '\r', '\n').ToLowerInvariant();
        if (text.StartsWith("<svg", StringComparison.Ordinal) || (text.StartsWith("<?xml", StringComparison.Ordinal) && text.Contains("<svg", StringComparison.Ordinal)))
        {
            return "image/svg+xml";
        }
        return HtmlStarts.Any(h => text.StartsWith(h, StringComparison.Ordinal)) ? "text/html" : "text/plain";
    }

    /// <summary>Valid UTF-8, allowing a character cut at the end of the sniffed bytes.</summary>
    private static bool IsUtf8Text(ReadOnlySpan<byte> head)
    {
        for (var cut = 0; cut <= 3 && cut <= head.Length; cut++)
        {
            if (Utf8.IsValid(head[..^cut]))
            {
                return true;
            }
        }
        return false;
    }
}
