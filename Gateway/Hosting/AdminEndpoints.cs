using System.Security.Claims;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Gateway.Presence;
using EventSourcedChat.Projections.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>
/// A runner as the admin API shows it. <c>position</c>, <c>lagEvents</c> and <c>lagSeconds</c> are the names of the
/// contract; <c>checkpointPosition</c>, <c>headPosition</c> and <c>lag</c> are kept for the clients of version 1.
/// </summary>
public sealed record ProjectionStatusView(
    string Name, string State, long Position, long LagEvents, double LagSeconds, string? Owner, string? Error,
    long? FailedPosition, Guid? FailedEventId, RebuildProgress? Rebuild, long CheckpointPosition, long HeadPosition, long Lag);

/// <summary>The deployment's status: <paramref name="Gateways"/> is null while Redis (the gateway registry) does not answer.</summary>
public sealed record InstanceStatusView(
    DateTimeOffset At, long HeadPosition, List<ProjectionStatusView> Runners, IReadOnlyList<GatewayView>? Gateways);

/// <summary>
/// Operations for the instance's administrators (user ids in the <c>Admins</c> setting): the state and lag of every
/// runner (projections and the push worker), restarts, and rebuilds without downtime.
/// </summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/admin").RequireAuthorization().WithTags("Admin")
            .AddEndpointFilter(async (context, next) => IsAdmin(context.HttpContext)
                ? await next(context)
                : Results.Problem(statusCode: 403, title: "Forbidden", detail: "Instance administrators only.",
                    extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Forbidden }));
        admin.MapGet("/status", InstanceStatus).WithName("InstanceStatus");
        admin.MapGet("/projections", Status).WithName("ProjectionStatus");
        admin.MapPost("/projections/{name}/restart", Restart).WithName("RestartProjection");
        admin.MapPost("/projections/{name}/rebuild", Rebuild).WithName("RebuildProjection");
        return app;
    }

    private static bool IsAdmin(HttpContext http)
    {
        var admins = http.RequestServices.GetRequiredService<IConfiguration>()["Admins"] ?? "";
        var userId = http.User.FindFirstValue("sub");
        return userId is not null && admins.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries).Contains(userId);
    }

    private static async Task<Ok<List<ProjectionStatusView>>> Status(
        LogRunners runners, RunnerStatus status, ProjectionRebuilder rebuilder, CancellationToken ct) =>
        TypedResults.Ok(await RunnersAsync(runners, status, rebuilder, ct));

    /// <summary>The deployment at a glance (<c>chatctl status</c>): the head of the log, every runner, every live gateway.</summary>
    private static async Task<Ok<InstanceStatusView>> InstanceStatus(
        LogRunners runners, RunnerStatus status, ProjectionRebuilder rebuilder, GatewayRegistry gateways, TimeProvider time, CancellationToken ct)
    {
        var views = await RunnersAsync(runners, status, rebuilder, ct);
        return TypedResults.Ok(new InstanceStatusView(
            time.GetUtcNow(), views.Count == 0 ? 0 : views.Max(v => v.HeadPosition), views, await gateways.ListAsync()));
    }

    private static async Task<List<ProjectionStatusView>> RunnersAsync(
        LogRunners runners, RunnerStatus status, ProjectionRebuilder rebuilder, CancellationToken ct)
    {
        var rebuilds = rebuilder.Progress.ToDictionary(p => p.Projection);
        var states = await status.ReadAsync(runners.All, ct);
        return states.Select(s => new ProjectionStatusView(
            s.Name, s.State, s.Position, s.LagEvents, Math.Round(s.LagSeconds, 3), s.Owner, s.Error, s.FailedPosition, s.FailedEventId,
            rebuilds.GetValueOrDefault(s.Name), s.Position, s.HeadPosition, s.LagEvents)).ToList();
    }

    /// <summary>Asks the node that owns the runner, whichever it is, to start it again from its checkpoint.</summary>
    private static async Task<Results<Accepted, ProblemHttpResult>> Restart(
        string name, LogRunners runners, RunnerStatus status, CancellationToken ct)
    {
        if (runners.Find(name) is null)
        {
            return NotFound(name);
        }
        await status.RequestRestartAsync(name, ct);
        return TypedResults.Accepted("/v1/admin/projections");
    }

    private static async Task<Results<Accepted<RebuildProgress>, ProblemHttpResult>> Rebuild(
        string name, IEnumerable<Projection> projections, ProjectionRebuilder rebuilder, IHostApplicationLifetime lifetime,
        ILogger<ProjectionRebuilder> logger)
    {
        var projection = projections.FirstOrDefault(p => p.Name == name);
        if (projection is null)
        {
            return NotFound(name);
        }
        var rebuild = await rebuilder.TryStartAsync(projection, lifetime.ApplicationStopping);
        if (rebuild is null)
        {
            return TypedResults.Problem(statusCode: 409, title: "Conflict", detail: $"{name} is already being rebuilt.",
                extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Conflict });
        }
        _ = rebuild.ContinueWith(
            t => logger.LogError(t.Exception, "Rebuild of {Projection} failed", name),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return TypedResults.Accepted("/v1/admin/projections", new RebuildProgress(name, 0, "rebuilding", null));
    }

    private static ProblemHttpResult NotFound(string name) =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No projection named '{name}'.",
            extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.NotFound });
}
