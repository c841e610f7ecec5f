using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Channels;

/// <param name="Place">True to place the hold, false to lift it.</param>
public sealed record LegalHold(bool Place, string? Reason);

public sealed record LegalHoldRequest(string? Reason);

public static class LegalHoldEndpoint
{
    public const int MaxReasonLength = 500;

    /// <summary>
    /// A workspace admin places a channel on legal hold or lifts it (private channels and DMs included, member or not);
    /// a member who sees the channel but is not an admin is refused, anyone else finds no channel. The same state again
    /// changes nothing.
    /// </summary>
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, ChannelState channel, LegalHold command, string actorId)
    {
        var role = workspace.RoleOf(actorId);
        if (!channel.Exists || role != "admin")
        {
            var visible = channel.Exists && role is not null && (!channel.IsPrivate || channel.IsMember(actorId));
            throw visible ? CommandRejected.Forbidden("Only workspace admins place or lift legal holds.") : CommandRejected.NotFound("The channel");
        }
        var reason = string.IsNullOrWhiteSpace(command.Reason) ? null : command.Reason.Trim();
        if (reason is { Length: > MaxReasonLength })
        {
            throw CommandRejected.Invalid($"A reason has at most {MaxReasonLength} characters.");
        }
        if (channel.Held == command.Place)
        {
            return [];
        }
        return command.Place
            ? [new LegalHoldPlaced(channel.ChannelId, reason, actorId)]
            : [new LegalHoldLifted(channel.ChannelId, actorId)];
    }

    public static RouteGroupBuilder MapLegalHold(this RouteGroupBuilder group)
    {
        group.MapPost("/channels/{channelId}/legal-hold", (string channelId, LegalHoldRequest? body, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, new LegalHold(true, body?.Reason), http, store, ct)).WithName("PlaceLegalHold");
        group.MapDelete("/channels/{channelId}/legal-hold", (string channelId, HttpContext http, ChatEventStore store, CancellationToken ct) =>
            Handle(channelId, new LegalHold(false, null), http, store, ct)).WithName("LiftLegalHold");
        return group;
    }

    private static async Task<Ok<PositionResponse>> Handle(
        string channelId, LegalHold command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        return TypedResults.Ok(await ChannelPipeline.RunForPositionAsync(store, channelId, actor, new ChannelSlice(Hold: true),
            ChannelPipeline.Pure((workspace, channel) => Decide(workspace, channel, command, actor.UserId)), ct));
    }
}
