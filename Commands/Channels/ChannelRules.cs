using System.Text.RegularExpressions;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;

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

    /// <summary>
    /// Private channels and DMs exist only for their members, public ones for the workspace's members: anyone else
    /// is answered 404, exactly as for a channel that does not exist. Every channel needs a member of its workspace: a
    /// user removed from it is refused even where a channel membership of theirs is still to be ended.
    /// </summary>
    public static bool IsVisible(WorkspaceState workspace, ChannelState channel, string actorId) =>
        channel.Exists && workspace.RoleOf(actorId) is not null && (channel.IsMember(actorId) || !channel.IsPrivate);

    public static void EnsureVisible(WorkspaceState workspace, ChannelState channel, string actorId)
    {
        if (!IsVisible(workspace, channel, actorId))
        {
            throw CommandRejected.NotFound("The channel");
        }
    }

    public static void EnsureMember(ChannelState channel, string actorId)
    {
        if (!channel.IsMember(actorId))
        {
            throw new CommandRejected(403, Contracts.Api.ErrorCodes.NotInChannel, "Join the channel first.");
        }
    }
}
