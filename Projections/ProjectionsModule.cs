using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Projections.Directory;
using EventSourcedChat.Projections.Files;
using EventSourcedChat.Projections.History;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Projections.Profiles;
using EventSourcedChat.Projections.Unread;
using EventSourcedChat.Projections.Search;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventSourcedChat.Projections;

public static class ProjectionsModule
{
    /// <summary>Every projection of the system. The read models' queries name the ones they read.</summary>
    public static IServiceCollection AddProjectionCatalog(this IServiceCollection services)
    {
        services.TryAddSingleton<ProjectionSchemas>();
        services.TryAddSingleton<ProjectionRebuilder>();
        services.TryAddSingleton<RunnerStatus>();
        services.TryAddSingleton<ILogRunnerControl>(sp => sp.GetRequiredService<RunnerStatus>());
        services.TryAddSingleton<LogRunners>();
        services.TryAddSingleton<IProjectionAdmin, ProjectionAdmin>();
        // Projections register here, one line each.
        services.AddSingleton<Projection, DirectoryProjection>();
        services.AddSingleton<Projection, UnreadProjection>();
        services.AddSingleton<Projection, HistoryProjection>();
        services.AddSingleton<Projection, SearchProjection>();
        services.AddSingleton<Projection, ProfileProjection>();
        services.AddSingleton<Projection, FileProjection>();
        return services;
    }

    /// <summary>
    /// The deletion of deleted messages' files (<see cref="FileReaper"/>), on projector nodes; needs the object store,
    /// the files' settings and the write side's <c>IFileReleases</c>.
    /// </summary>
    public static IServiceCollection AddFileReaper(this IServiceCollection services)
    {
        services.AddSingleton<FileReaper>();
        services.AddHostedService(sp => sp.GetRequiredService<FileReaper>());
        return services;
    }

    /// <summary>The <c>projector</c> role: runs the projections.</summary>
    public static IServiceCollection AddProjectionRunner(this IServiceCollection services, ProjectionRunnerOptions? options = null)
    {
        services.AddProjectionCatalog();
        services.AddSingleton(options ?? ProjectionRunnerOptions.All);
        services.AddSingleton<ProjectionRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<ProjectionRunner>());
        services.AddHostedService<RunnerLagMetrics>();
        return services;
    }

    /// <summary>
    /// The <c>projections</c> health check (a runner failed or too far behind: degraded), tagged with
    /// <paramref name="tags"/>. It reads the runners' status from the database, so a node of any role answers it.
    /// </summary>
    public static IHealthChecksBuilder AddProjectionsHealthCheck(this IHealthChecksBuilder checks, params string[] tags) =>
        checks.AddCheck<ProjectionsHealthCheck>("projections", tags: tags);
}
