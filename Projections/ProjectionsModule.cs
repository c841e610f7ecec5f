using EventSourcedChat.Projections.Directory;
using EventSourcedChat.Projections.History;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.Projections.Unread;
using EventSourcedChat.Projections.Search;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EventSourcedChat.Projections;

public static class ProjectionsModule
{
    /// <summary>Every projection of the system. The read models' queries name the ones they read.</summary>
    public static IServiceCollection AddProjectionCatalog(this IServiceCollection services)
    {
        services.TryAddSingleton<ProjectionSchemas>();
        services.TryAddSingleton<ProjectionRebuilder>();
        services.TryAddSingleton<RunnerStatus>();
        services.TryAddSingleton<LogRunners>();
        // Projections register here, one line each.
        services.AddSingleton<Projection, DirectoryProjection>();
        services.AddSingleton<Projection, UnreadProjection>();
        services.AddSingleton<Projection, HistoryProjection>();
        services.AddSingleton<Projection, SearchProjection>();
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
}
