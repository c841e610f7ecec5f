using System.Text;
using System.Text.RegularExpressions;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Commands.Messages;

public static partial class MessageRules
{
    public const int MaxTextLength = 40_000;
    public const int MaxMentionedUsers = 100;

    [GeneratedRegex("<@([0-9a-f]{32})>")]
    private static partial Regex UserMention();

    [GeneratedRegex(@"(?<![\w@])@(channel|here)\b")]
    private static partial Regex BroadcastMention();

    public const int MaxEmojiLength = 64;

    /// <summary>
    /// Trimmed text of 1 to 40,000 characters. NUL characters are rejected (not stripped): PostgreSQL cannot store
    /// them in jsonb, and silently changing what the user wrote would be worse than telling them.
    /// </summary>
    public static string ValidText(string? text)
    {
        var trimmed = text?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            throw CommandRejected.Invalid("A message needs some text.");
        }
        if (trimmed.Length > MaxTextLength)
        {
            throw new CommandRejected(400, ErrorCodes.MessageTooLong, $"A message has at most {MaxTextLength} characters.");
        }
        if (trimmed.Contains('\0', StringComparison.Ordinal))
        {
            throw CommandRejected.Invalid("A message cannot contain NUL characters.");
        }
        return trimmed;
    }

    /// <summary>The text of a post that names files: it may be empty (the files are the message); otherwise as <see cref="ValidText"/>.</summary>
    public static string ValidTextBesideFiles(string? text) => string.IsNullOrWhiteSpace(text) ? "" : ValidText(text);

    /// <summary>
    /// An emoji name (<c>thumbsup</c>) or a Unicode emoji (sequences with ZWJ and variation selectors included):
    /// 1 to 64 UTF-16 characters of valid Unicode, without whitespace, control characters, or the path
    /// characters <c>/ % ? #</c> (the emoji is a path segment and must come back the same way).
    /// </summary>
    public static string ValidEmoji(string? emoji)
    {
        // EnumerateRunes yields U+FFFD for an unpaired surrogate: invalid UTF-16 is rejected with it.
        var valid = emoji is { Length: > 0 and <= MaxEmojiLength } && emoji.EnumerateRunes().All(r =>
            r != Rune.ReplacementChar && !Rune.IsWhiteSpace(r) && !Rune.IsControl(r) && r.Value is not ('/' or '%' or '?' or '#'));
        return valid
            ? emoji!
            : throw CommandRejected.Invalid($"An emoji has 1 to {MaxEmojiLength} characters, without spaces or control characters.");
    }

    /// <summary><c>&lt;@userId&gt;</c>, <c>@channel</c> and <c>@here</c>, as written in the text.</summary>
    public static Mentions ParseMentions(string text)
    {
        var users = UserMention().Matches(text).Select(m => m.Groups[1].Value).Distinct().Take(MaxMentionedUsers).ToList();
        var broadcasts = BroadcastMention().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
        return users.Count == 0 && broadcasts.Count == 0
            ? Mentions.None
            : new Mentions(users, broadcasts.Contains("channel"), broadcasts.Contains("here"));
    }
}
