using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Channels;

/// <param name="Archive">True to archive, false to unarchive.</param>
public sealed record ArchiveChannel(bool Archive);

public static class ArchiveChannelEndpoint
{
    /// <summary>
    /// The channel's creator or a workspace admin archives (no more posts, joins or invites) or unarchives it;
    /// a channel already in that state changes nothing. DMs are never archived.
    /// </summary>
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, ChannelState channel, ArchiveChannel command, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        ChannelChange.EnsureNotDm(channel, command.Archive ? "archived" : "unarchived");
        ChannelChange.EnsureCreatorOrAdmin(workspace, channel, actorId, command.Archive ? "archive it" : "unarchive it");
        if (channel.Archived == command.Archive)
        {
            return [];
        }
        return command.Archive
            ? [new ChannelArchived(channel.ChannelId, actorId)]
            : [new ChannelUnarchived(channel.ChannelId, actorId)];
    }

    public static RouteGroupBuilder MapArchiveChannel(this RouteGroupBuilder group)
    {
        group.MapPost("/channels/{channelId}/archive", (string channelId, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, new ArchiveChannel(true), http, store, ct)).WithName("ArchiveChannel");
        group.MapPost("/channels/{channelId}/unarchive", (string channelId, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, new ArchiveChannel(false), http, store, ct)).WithName("UnarchiveChannel");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, ArchiveChannel command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, ChannelSlice.None,
            ChannelPipeline.Pure((workspace, channel) => Decide(workspace, channel, command, actor.UserId)), ct));
    }
}
