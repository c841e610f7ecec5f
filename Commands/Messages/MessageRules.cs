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

    /// <summary>Trimmed text of 1 to 40,000 characters.</summary>
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
        return trimmed;
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
