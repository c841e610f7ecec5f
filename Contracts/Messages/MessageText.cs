using System.Text.RegularExpressions;

namespace EventSourcedChat.Contracts.Messages;

/// <summary>
/// A message's text is a Markdown subset stored as the author wrote it (docs/web-client.md, "Formatting");
/// <see cref="Plain"/> is its plain-text form, which search indexes (and notifications would show): the markup goes,
/// the words stay. Code keeps its content verbatim, a link keeps its text and its URL, mentions stay as written
/// (<c>&lt;@id&gt;</c>, <c>&lt;#id&gt;</c>: ids, which a reader resolves to names; an underscore in an id is not emphasis).
/// </summary>
/// <remarks>
/// A pure function of the text, so a rebuild of the search projection gives the same rows. It is deliberately
/// forgiving rather than a full CommonMark parser: it removes what the subset's markup looks like (emphasis,
/// strike, code fences and backticks, quote and bullet markers, link brackets, backslash escapes) and never removes
/// a word character, so a search never misses a word the author typed; <c>snake_case</c> and <c>2*3*4</c> keep
/// their characters because a marker inside a word is not one.
/// </remarks>
public static partial class MessageText
{
    /// <summary>The plain-text form of <paramref name="markdown"/>; empty for null.</summary>
    public static string Plain(string? markdown)
    {
        if (string.IsNullOrEmpty(markdown))
        {
            return "";
        }
        var output = new List<string>();
        string? fence = null;
        foreach (var line in markdown.Replace("\r\n", "\n").Split('\n'))
        {
            var fenceMatch = Fence().Match(line);
            if (fence is null && fenceMatch.Success)
            {
                fence = fenceMatch.Groups[1].Value;
            }
            else if (fence is not null && fenceMatch.Success && fenceMatch.Groups[1].Value.StartsWith(fence, StringComparison.Ordinal)
                     && fenceMatch.Groups[2].Value.Trim().Length == 0)
            {
                fence = null;
            }
            else
            {
                output.Add(fence is null ? Inline(BlockPrefix().Replace(line, "")) : line);
            }
        }
        return string.Join('\n', output).Trim();
    }

    private static string Inline(string line)
    {
        // Literal pieces (code spans, URLs) are set aside behind NUL-delimited placeholders (a message holds no NUL),
        // so the emphasis rules below never touch them.
        var literals = new List<string>();
        string Keep(string literal)
        {
            literals.Add(literal);
            return $"\0{literals.Count - 1}\0";
        }
        var text = CodeSpan().Replace(line, m => Keep(m.Groups[2].Value.Trim()));
        text = Link().Replace(text, m =>
        {
            var label = m.Groups[1].Value;
            var url = m.Groups[2].Value;
            return label.Length == 0 || label == url ? Keep(url) : $"{label} ({Keep(url)})";
        });
        text = AutoLink().Replace(text, m => Keep(m.Groups[1].Value));
        text = BareUrl().Replace(text, m => Keep(m.Value));
        text = Mention().Replace(text, m => Keep(m.Value));
        text = DoubleMarker().Replace(text, "");
        text = OpeningMarker().Replace(text, "");
        text = ClosingMarker().Replace(text, "");
        text = Escape().Replace(text, "$1");
        return Placeholder().Replace(text, m => int.TryParse(m.Groups[1].Value, out var i) && i < literals.Count ? literals[i] : "");
    }

    [GeneratedRegex(@"^\s{0,3}(`{3,}|~{3,})(.*)$")]
    private static partial Regex Fence();

    /// <summary>Quote markers (any depth) and then one bullet marker at the start of a line.</summary>
    [GeneratedRegex(@"^(?:\s{0,3}>\s?)*(?:\s*[-*+]\s+)?")]
    private static partial Regex BlockPrefix();

    [GeneratedRegex(@"(`+)(.+?)\1")]
    private static partial Regex CodeSpan();

    /// <summary><c>[text](url "title")</c> and the image form <c>![alt](url)</c>.</summary>
    [GeneratedRegex(@"!?\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"<((?:https?|mailto):[^>\s]+)>", RegexOptions.IgnoreCase)]
    private static partial Regex AutoLink();

    [GeneratedRegex(@"\b(?:https?://|mailto:)[^\s<>\0]+", RegexOptions.IgnoreCase)]
    private static partial Regex BareUrl();

    [GeneratedRegex(@"<[@#][A-Za-z0-9_-]{1,64}>")]
    private static partial Regex Mention();

    [GeneratedRegex(@"(?<!\\)(\*\*|__|~~)")]
    private static partial Regex DoubleMarker();

    [GeneratedRegex(@"(?<![\w\\*])[*_](?=[^\s*_])")]
    private static partial Regex OpeningMarker();

    [GeneratedRegex(@"(?<=[^\s*_\\])[*_](?![\w*])")]
    private static partial Regex ClosingMarker();

    [GeneratedRegex(@"\\([!-/:-@\[-`{-~])")]
    private static partial Regex Escape();

    [GeneratedRegex(@"\0(\d+)\0")]
    private static partial Regex Placeholder();
}
