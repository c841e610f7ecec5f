namespace EventSourcedChat.ReadModels.Search;

/// <summary>The operators a search's <c>q</c> may hold, taken out of it, and the words left.</summary>
/// <param name="Text">What is left to look for: <c>q</c> itself when it holds no operator, else its other words separated by single spaces (empty when none).</param>
/// <param name="In">The channel of an <c>in:</c> operator.</param>
/// <param name="From">The author of a <c>from:</c> operator.</param>
public sealed record SearchOperators(string Text, string? In, string? From, bool HasFile, bool HasImage)
{
    public const string HasFileOperator = "has:file";
    public const string HasImageOperator = "has:image";
    public const string InPrefix = "in:";
    public const string FromPrefix = "from:";

    /// <summary>
    /// Splits <paramref name="q"/> at white space: <c>has:file</c>, <c>has:image</c>, <c>in:&lt;channelId&gt;</c> and
    /// <c>from:&lt;userId&gt;</c> (operator names case-insensitive) are operators, anything else is text, kept in its
    /// order. The same operator twice must agree; an operator without its value, or another <c>has:</c> value, is an
    /// error (answered as 400 by the endpoint), so a typo never silently searches for the literal word.
    /// </summary>
    public static (SearchOperators? Operators, string? Error) Parse(string q)
    {
        var words = new List<string>();
        string? inChannel = null, from = null;
        bool hasFile = false, hasImage = false;
        foreach (var word in q.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (word.Equals(HasFileOperator, StringComparison.OrdinalIgnoreCase))
            {
                hasFile = true;
            }
            else if (word.Equals(HasImageOperator, StringComparison.OrdinalIgnoreCase))
            {
                hasImage = true;
            }
            else if (word.StartsWith("has:", StringComparison.OrdinalIgnoreCase))
            {
                return (null, $"has: takes file or image, not '{Cut(word[4..])}'.");
            }
            else if (Value(word, InPrefix) is { } channel)
            {
                if (channel.Length == 0 || (inChannel is not null && inChannel != channel))
                {
                    return (null, "in: needs one channel id.");
                }
                inChannel = channel;
            }
            else if (Value(word, FromPrefix) is { } user)
            {
                if (user.Length == 0 || (from is not null && from != user))
                {
                    return (null, "from: needs one user id.");
                }
                from = user;
            }
            else
            {
                words.Add(word);
            }
        }
        // Without operators q is kept as it was (a substring search keeps its inner spaces).
        var text = inChannel is null && from is null && !hasFile && !hasImage ? q : string.Join(' ', words);
        return (new SearchOperators(text, inChannel, from, hasFile || hasImage, hasImage), null);
    }

    /// <summary>The value after <paramref name="prefix"/> (without a leading <c>#</c> or <c>@</c>), or null when the word is not that operator.</summary>
    private static string? Value(string word, string prefix) =>
        word.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? word[prefix.Length..].TrimStart('#', '@') : null;

    private static string Cut(string value) => value.Length > 20 ? value[..20] + "…" : value;
}
