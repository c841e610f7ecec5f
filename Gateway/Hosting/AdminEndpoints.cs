using System.Security.Claims;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Projections.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace EventSourcedChat.Gateway.Hosting;

public sealed record ProjectionStatusView(
    string Name, string State, long CheckpointPosition, long HeadPosition, long Lag,
    string? Error, long? FailedPosition, Guid? FailedEventId, RebuildProgress? Rebuild);

/// <summary>
/// Operations for the instance's administrators (user ids in the <c>Admins</c> setting): projection status with lag,
/// and rebuilds without downtime.
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
        admin.MapGet("/projections", Status).WithName("ProjectionStatus");
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
        IEnumerable<Projection> projections, NpgsqlDataSource db, ProjectionRebuilder rebuilder, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select n.name, coalesce(s.state, 'not started'), coalesce(c.position, 0),
                   (select coalesce(max(position), 0) from es_events), s.error, s.failed_position, s.failed_event_id
              from unnest($1::text[]) n(name)
              left join projection_status s on s.name = n.name
              left join es_checkpoints c on c.name = 'projection:' || n.name
            """);
        cmd.Parameters.AddWithValue(projections.Select(p => p.Name).ToArray());
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<ProjectionStatusView>();
        var rebuilds = rebuilder.Progress.ToDictionary(p => p.Projection);
        while (await r.ReadAsync(ct))
        {
            var (name, checkpoint, head) = (r.GetString(0), r.GetInt64(2), r.GetInt64(3));
            list.Add(new ProjectionStatusView(name, r.GetString(1), checkpoint, head, Math.Max(0, head - checkpoint),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetInt64(5), r.IsDBNull(6) ? null : r.GetGuid(6),
                rebuilds.GetValueOrDefault(name)));
        }
        return TypedResults.Ok(list);
    }

    private static Results<Accepted<RebuildProgress>, ProblemHttpResult> Rebuild(
        string name, IEnumerable<Projection> projections, ProjectionRebuilder rebuilder, IHostApplicationLifetime lifetime,
        ILogger<ProjectionRebuilder> logger)
    {
        var projection = projections.FirstOrDefault(p => p.Name == name);
        if (projection is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No projection named '{name}'.",
                extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.NotFound });
        }
        if (rebuilder.Progress.Any(p => p.Projection == name && p.State == "rebuilding"))
        {
            return TypedResults.Problem(statusCode: 409, title: "Conflict", detail: $"{name} is already rebuilding.",
                extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Conflict });
        }
        _ = rebuilder.RebuildAsync(projection, lifetime.ApplicationStopping).ContinueWith(
            t => logger.LogError(t.Exception, "Rebuild of {Projection} failed", name),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return TypedResults.Accepted("/v1/admin/projections", new RebuildProgress(name, 0, "rebuilding", null));
    }
}
