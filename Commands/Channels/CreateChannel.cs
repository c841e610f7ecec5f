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

public sealed record CreateChannel(string? Name, bool? IsPrivate, string? Topic);

public sealed record ChannelCreatedResponse(string ChannelId, long Position);

public static class CreateChannelEndpoint
{
    /// <summary>A workspace member creates a channel and becomes its first member.</summary>
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, string channelId, CreateChannel command, string actorId)
    {
        if (workspace.RoleOf(actorId) is null)
        {
            throw CommandRejected.NotFound("The workspace");
        }
        var name = ChannelRules.ValidName(command.Name);
        var topic = ChannelRules.ValidTopic(command.Topic);
        var kind = command.IsPrivate == true ? "private" : "public";
        return
        [
            new ChannelCreated(channelId, workspace.WorkspaceId, name, kind, topic, actorId, []),
            new MemberJoined(channelId, actorId, null),
        ];
    }

    public static RouteGroupBuilder MapCreateChannel(this RouteGroupBuilder group)
    {
        group.MapPost("/workspaces/{workspaceId}/channels", Handle).WithName("CreateChannel")
            .RequireRateLimiting(RateLimitPolicies.CreatingChannels).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Created<ChannelCreatedResponse>> Handle(
        string workspaceId, CreateChannel command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var channelId = Ids.New();
        ChannelCreated? created = null;
        try
        {
            var result = await ChannelPipeline.CreateAsync(store, workspaceId, channelId, actor, [actor.UserId], workspace =>
            {
                var events = Decide(workspace, channelId, command, actor.UserId);
                created = (ChannelCreated)events[0];
                return events;
            }, ct);
            return TypedResults.Created($"/v1/channels/{channelId}", new ChannelCreatedResponse(channelId, result!.Position));
        }
        catch (PostgresException e) when (e.IsUniqueViolation("ws_channels_name"))
        {
            throw CommandRejected.Conflict(ErrorCodes.NameTaken, $"A channel named '{created!.Name}' already exists in this workspace.");
        }
    }
}
