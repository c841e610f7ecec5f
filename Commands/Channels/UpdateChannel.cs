using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.Commands.Channels;

/// <param name="Name">A new name; absent (null) keeps it.</param>
/// <param name="Topic">A new topic; absent (null) keeps it, empty or blank clears it.</param>
public sealed record UpdateChannel(string? Name, string? Topic);

public static class UpdateChannelEndpoint
{
    /// <summary>A member renames a live channel or sets its topic; what already holds changes nothing.</summary>
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, ChannelState channel, UpdateChannel command, string actorId)
    {
        ChannelRules.EnsureVisible(workspace, channel, actorId);
        ChannelRules.EnsureMember(channel, actorId);
        if (command.Name is not null)
        {
            ChannelChange.EnsureNotDm(channel, "renamed");
        }
        ChannelRules.EnsureNotArchived(channel);
        var name = command.Name is null ? channel.Name : ChannelRules.ValidName(command.Name);
        var topic = command.Topic is null ? channel.Topic : ChannelRules.ValidTopic(command.Topic);
        var events = new List<object>();
        if (name != channel.Name)
        {
            events.Add(new ChannelRenamed(channel.ChannelId, name, actorId));
        }
        if (topic != channel.Topic)
        {
            events.Add(new ChannelTopicSet(channel.ChannelId, topic, actorId));
        }
        return events;
    }

    public static RouteGroupBuilder MapUpdateChannel(this RouteGroupBuilder group)
    {
        group.MapPatch("/channels/{channelId}", Handle).WithName("UpdateChannel");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, UpdateChannel command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        try
        {
            return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, ChannelSlice.None,
                ChannelPipeline.Pure((workspace, channel) => Decide(workspace, channel, command, actor.UserId)), ct));
        }
        catch (PostgresException e) when (e.IsUniqueViolation("ws_channels_name"))
        {
            throw CommandRejected.Conflict(ErrorCodes.NameTaken, $"A channel named '{command.Name?.Trim()}' already exists in this workspace.");
        }
    }
}
