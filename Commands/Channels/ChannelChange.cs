using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;

namespace EventSourcedChat.Commands.Channels;

/// <summary>Rules shared by the decisions on an existing channel.</summary>
public static class ChannelChange
{
    public static void EnsureNotDm(ChannelState channel, string what)
    {
        if (channel.IsDm)
        {
            throw CommandRejected.Invalid($"A direct message cannot be {what}.");
        }
    }

    /// <summary>Archiving and removing members: the channel's creator or a workspace admin.</summary>
    public static void EnsureCreatorOrAdmin(WorkspaceState workspace, ChannelState channel, string actorId, string what)
    {
        if (channel.CreatedBy != actorId && !workspace.IsAdmin(actorId))
        {
            throw CommandRejected.Forbidden($"Only the channel's creator or a workspace admin may {what}.");
        }
    }
}
