using EventSourcedChat.ReadModels.Audit;
using EventSourcedChat.ReadModels.Channels;
using EventSourcedChat.ReadModels.Files;
using EventSourcedChat.ReadModels.History;
using EventSourcedChat.ReadModels.Infrastructure;
using EventSourcedChat.ReadModels.Profiles;
using EventSourcedChat.ReadModels.Search;
using EventSourcedChat.ReadModels.Threads;
using EventSourcedChat.ReadModels.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EventSourcedChat.ReadModels;

/// <summary>The read side as a mappable module: query services and the REST query endpoints under <c>/v1</c>.</summary>
public static class ReadModelsModule
{
    public static IServiceCollection AddReadModels(this IServiceCollection services)
    {
        // Query services register here, one line each.
        services.AddSingleton<IMessageSearch, PostgresMessageSearch>();
        services.AddSingleton<Profiles.AvatarLinks>();
        services.TryAddSingleton<IPresenceReader, NoPresence>();
        return services;
    }

    public static IEndpointRouteBuilder MapQueries(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization().WithTags("Queries")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        // Query groups register here, one line each, e.g. v1.MapHistoryQueries();
        v1.MapChannelQueries();
        v1.MapHistoryQueries();
        v1.MapPinQueries();
        v1.MapFileQueries();
        v1.MapSearchQueries();
        v1.MapProfileQueries();
        v1.MapAuditQueries();
        v1.MapMemberDirectory();
        v1.MapInviteQueries();
        v1.MapThreadQueries();
        return app;
    }
}
