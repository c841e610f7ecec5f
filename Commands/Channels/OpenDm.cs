using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Channels;

public sealed record OpenDm(IReadOnlyList<string>? UserIds);

public static class OpenDmEndpoint
{
    public const int MaxOthers = 8;

    /// <summary>The DM's members: the caller and 1 to 8 others, without duplicates, sorted (the DM's identity).</summary>
    public static IReadOnlyList<string> MemberSet(OpenDm command, string actorId)
    {
        var others = (command.UserIds ?? []).Select(u => u?.Trim() ?? "").Where(u => u != actorId).Distinct(StringComparer.Ordinal).ToList();
        if (others.Count is 0 or > MaxOthers)
        {
            throw CommandRejected.Invalid($"A direct message has 1 to {MaxOthers} other people.");
        }
        return [.. others.Append(actorId).Order(StringComparer.Ordinal)];
    }

    /// <summary>A workspace member opens a DM with other members: created with its fixed member set, each of whom joins.</summary>
    public static IReadOnlyList<object> Decide(WorkspaceState workspace, string channelId, IReadOnlyList<string> members, string actorId)
    {
        if (workspace.RoleOf(actorId) is null)
        {
            throw CommandRejected.NotFound("The workspace");
        }
        if (members.Any(m => workspace.RoleOf(m) is null))
        {
            throw CommandRejected.NotFound("The user");
        }
        return [
            new ChannelCreated(channelId, workspace.WorkspaceId, "", "dm", null, actorId, members),
            .. members.Select(m => new MemberJoined(channelId, m, m == actorId ? null : actorId)),
        ];
    }

    public static RouteGroupBuilder MapOpenDm(this RouteGroupBuilder group)
    {
        group.MapPost("/workspaces/{workspaceId}/dms", Handle).WithName("OpenDm");
        return group;
    }

    private static async Task<Ok<ChannelCreatedResponse>> Handle(
        string workspaceId, OpenDm command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        _ = await WorkspaceAccess.RoleOfAsync(store.DataSource, workspaceId, actor.UserId, ct)
            ?? throw CommandRejected.NotFound("The workspace"); // before judging the body: an outsider learns nothing
        var members = MemberSet(command, actor.UserId);
        var channelId = Ids.Deterministic("dm", $"{workspaceId}\n{string.Join(',', members)}");
        var stream = Ids.ChannelStream(channelId);

        // Every event id derives from the DM's id: opening it again, even concurrently, is an idempotent duplicate.
        var result = await ChannelPipeline.CreateAsync(store, workspaceId, channelId, actor, members,
            workspace => Decide(workspace, channelId, members, actor.UserId), ct,
            eventIds: i => Ids.DeterministicGuid(stream, $"open-{i}"));
        var position = result is { Duplicate: false } ? result.Position : await store.HeadPositionAsync(stream, ct);
        return TypedResults.Ok(new ChannelCreatedResponse(channelId, position));
    }
}
