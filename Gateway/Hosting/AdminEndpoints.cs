using System.Security.Claims;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Gateway.Presence;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EventSourcedChat.Gateway.Hosting;

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
        var admins = http.RequestServices.GetRequiredService<IConfiguration>()[InstanceAdmins.Setting];
        return InstanceAdmins.Contains(admins, http.User.FindFirstValue(ChatClaims.UserId));
    }

    private static async Task<Ok<List<ProjectionStatusView>>> Status(IProjectionAdmin projections, CancellationToken ct) =>
        TypedResults.Ok(await projections.StatusAsync(ct));

    /// <summary>The deployment at a glance (<c>chatctl status</c>): the head of the log, every runner, every live gateway.</summary>
    private static async Task<Ok<InstanceStatusView>> InstanceStatus(
        IProjectionAdmin projections, GatewayRegistry gateways, TimeProvider time, CancellationToken ct)
    {
        var views = await projections.StatusAsync(ct);
        return TypedResults.Ok(new InstanceStatusView(
            time.GetUtcNow(), views.Count == 0 ? 0 : views.Max(v => v.HeadPosition), views, await gateways.ListAsync()));
    }

    /// <summary>Asks the node that owns the runner, whichever it is, to start it again from its checkpoint.</summary>
    private static async Task<Results<Accepted, ProblemHttpResult>> Restart(string name, IProjectionAdmin projections, CancellationToken ct) =>
        await projections.RequestRestartAsync(name, ct) ? TypedResults.Accepted("/v1/admin/projections") : NotFound(name);

    private static async Task<Results<Accepted<RebuildProgress>, ProblemHttpResult>> Rebuild(
        string name, IProjectionAdmin projections, IHostApplicationLifetime lifetime) =>
        await projections.StartRebuildAsync(name, lifetime.ApplicationStopping) switch
        {
            RebuildStart.NotFound => NotFound(name),
            RebuildStart.AlreadyRunning => TypedResults.Problem(statusCode: 409, title: "Conflict", detail: $"{name} is already being rebuilt.",
                extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Conflict }),
            _ => TypedResults.Accepted("/v1/admin/projections", new RebuildProgress(name, 0, "rebuilding", null)),
        };

    private static ProblemHttpResult NotFound(string name) =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No projection named '{name}'.",
            extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.NotFound });
}
