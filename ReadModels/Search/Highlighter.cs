using System.Globalization;
using System.Text;

namespace EventSourcedChat.ReadModels.Search;

/// <summary>HTML-safe highlights: the text is escaped, only the <c>&lt;mark&gt;</c> tags we add are markup.</summary>
public static class Highlighter
{
    public const string Open = "<mark>";
    public const string Close = "</mark>";

    /// <summary>Characters PostgreSQL's <c>ts_headline</c> puts around matches; stripped from texts before, so they only come from it.</summary>
    public const char StartSentinel = '\uE000';
    public const char StopSentinel = '\uE001';

    /// <summary>How many characters of context a substring highlight keeps on each side of the match.</summary>
    public const int Context = 80;

    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length + 16);
        AppendEscaped(sb, text);
        return sb.ToString();
    }

    private static void AppendEscaped(StringBuilder sb, ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            _ = c switch
            {
                '&' => sb.Append("&amp;"),
                '<' => sb.Append("&lt;"),
                '>' => sb.Append("&gt;"),
                '"' => sb.Append("&quot;"),
                '\'' => sb.Append("&#39;"),
                _ => sb.Append(c),
            };
        }
    }

    /// <summary>Turns <c>ts_headline</c> output (over already escaped text, sentinels as selectors) into marked HTML.</summary>
    public static string FromHeadline(string headline) => headline
        .Replace(StartSentinel.ToString(), Open, StringComparison.Ordinal)
        .Replace(StopSentinel.ToString(), Close, StringComparison.Ordinal);

    /// <summary>
    /// The first case-insensitive occurrence of <paramref name="needle"/> in <paramref name="text"/>, marked, with up to
    /// <see cref="Context"/> characters each side (cut texts get an ellipsis); the escaped start of the text when the
    /// database matched in a way this comparison does not see.
    /// </summary>
    public static string Substring(string text, string needle)
    {
        var at = text.IndexOf(needle, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            at = CultureInfo.InvariantCulture.CompareInfo.IndexOf(text, needle, CompareOptions.IgnoreCase, out var length);
            if (at < 0)
            {
                return Excerpt(text);
            }
            return Mark(text, at, length);
        }
        return Mark(text, at, needle.Length);
    }

    /// <summary>
    /// <c>ts_headline</c> marks nothing in a file name that its parser takes as one token (<c>Quarterly-Report.pdf</c>):
    /// a message found by a file name then shows that name with the first query word it contains marked.
    /// </summary>
    public static string FullText(string headline, string fileNames, string q)
    {
        if (fileNames.Length == 0 || headline.Contains(Open, StringComparison.Ordinal))
        {
            return headline;
        }
        var word = q.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(w => fileNames.Contains(w, StringComparison.OrdinalIgnoreCase));
        return word is null ? headline : Substring(fileNames, word);
    }

    /// <summary>The match in the text, or else in the file names (a message found by a file's name shows that name marked).</summary>
    public static string Substring(string text, string fileNames, string q) =>
        fileNames.Length > 0 && !text.Contains(q, StringComparison.OrdinalIgnoreCase) && fileNames.Contains(q, StringComparison.OrdinalIgnoreCase)
            ? Substring(fileNames, q)
            : Substring(text, q);

    /// <summary>The start of <paramref name="text"/>, escaped, up to twice <see cref="Context"/> characters (cut texts get an ellipsis): nothing marked.</summary>
    public static string Excerpt(string text) => Escape(Cut(text, 0, Math.Min(text.Length, 2 * Context), out var cut)) + (cut ? "…" : "");

    private static string Mark(string text, int at, int length)
    {
        var from = Boundary(text, Math.Max(0, at - Context));
        var to = Boundary(text, Math.Min(text.Length, at + length + Context));
        var sb = new StringBuilder();
        if (from > 0)
        {
            sb.Append('…');
        }
        AppendEscaped(sb, text.AsSpan(from, at - from));
        sb.Append(Open);
        AppendEscaped(sb, text.AsSpan(at, length));
        sb.Append(Close);
        AppendEscaped(sb, text.AsSpan(at + length, to - at - length));
        if (to < text.Length)
        {
            sb.Append('…');
        }
        return sb.ToString();
    }

    private static string Cut(string text, int from, int to, out bool cut)
    {
        to = Boundary(text, to);
        cut = to < text.Length;
        return text[from..to];
    }

    /// <summary>Never splits a surrogate pair.</summary>
    private static int Boundary(string text, int index) =>
        index > 0 && index < text.Length && char.IsLowSurrogate(text[index]) ? index - 1 : index;
}
