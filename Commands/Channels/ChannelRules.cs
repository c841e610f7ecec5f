using System.Text.RegularExpressions;
using EventSourcedChat.Commands.Infrastructure;

namespace EventSourcedChat.Commands.Channels;

public static partial class ChannelRules
{
    public const int MaxTopicLength = 250;

    [GeneratedRegex("^[a-z0-9_-]{1,80}$")]
    private static partial Regex NamePattern();

    public static string ValidName(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        return NamePattern().IsMatch(trimmed)
            ? trimmed
            : throw CommandRejected.Invalid("A channel name has 1 to 80 lowercase letters, digits, '-' or '_'.");
    }

    public static string? ValidTopic(string? topic) => topic is { Length: > MaxTopicLength }
        ? throw CommandRejected.Invalid($"A topic has at most {MaxTopicLength} characters.")
        : string.IsNullOrWhiteSpace(topic) ? null : topic.Trim();

    public static void EnsureNotArchived(ChannelState channel)
    {
        if (channel.Archived)
        {
            throw CommandRejected.Conflict(Contracts.Api.ErrorCodes.ChannelArchived, "The channel is archived.");
        }
    }

    public static void EnsureMember(ChannelState channel)
    {
        if (!channel.ActorIsMember)
        {
            throw new CommandRejected(403, Contracts.Api.ErrorCodes.NotInChannel, "Join the channel first.");
        }
    }
}
