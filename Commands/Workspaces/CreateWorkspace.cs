using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Workspaces;

public sealed record CreateWorkspace(string? Name);

public sealed record WorkspaceCreatedResponse(string WorkspaceId, long Position);

public static class CreateWorkspaceEndpoint
{
    public const int MaxNameLength = 80;

    /// <summary>Anyone signed in creates a workspace and becomes its admin.</summary>
    public static IReadOnlyList<object> Decide(string workspaceId, CreateWorkspace command, string actorId)
    {
        var name = command.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            throw CommandRejected.Invalid($"A workspace name has 1 to {MaxNameLength} characters.");
        }
        return [new WorkspaceCreated(workspaceId, name, actorId), new WorkspaceMemberAdded(workspaceId, actorId, "admin", actorId)];
    }

    public static RouteGroupBuilder MapCreateWorkspace(this RouteGroupBuilder group)
    {
        group.MapPost("/workspaces", Handle).WithName("CreateWorkspace")
            .RequireRateLimiting(RateLimitPolicies.CreatingWorkspaces).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return group;
    }

    private static async Task<Created<WorkspaceCreatedResponse>> Handle(
        CreateWorkspace command, HttpContext http, ChatEventStore store, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var workspaceId = Ids.New();
        var result = await WorkspacePipeline.RunAsync(store, actor, StreamPipeline.Nothing(WorkspaceState.Initial with { WorkspaceId = workspaceId }),
            w => w, _ => Decide(workspaceId, command, actor.UserId), ct);
        return TypedResults.Created($"/v1/workspaces/{workspaceId}", new WorkspaceCreatedResponse(workspaceId, result!.Position));
    }
}
