using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.Extensions.DependencyInjection.Extensions;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Notifications;

namespace EventSourcedChat.Gateway.Presence;

public static class PresenceModule
{
    /// <summary>Presence, typing and the gateway registry used by the connection balancer.</summary>
    public static IServiceCollection AddPresence(this IServiceCollection services)
    {
        services.AddSingleton(sp => PresenceOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<LocalConnections>();
        services.AddSingleton<SerialDispatch>();
        services.AddSingleton<PresenceStore>();
        services.AddSingleton<LocalPresence>();
        services.AddSingleton<PresenceVisibility>();
        services.AddSingleton<PresenceWatchers>();
        services.AddSingleton<PresenceDelivery>();
        services.AddSingleton<PresenceService>();
        // REST views read presence from Redis through the same service as the hub.
        services.Replace(ServiceDescriptor.Singleton<IPresenceReader>(sp => sp.GetRequiredService<PresenceService>()));
        // The notification worker reads it there too (who is active when a message is posted and when a digest is due).
        services.Replace(ServiceDescriptor.Singleton<IUserPresence>(sp => sp.GetRequiredService<PresenceService>()));
        services.AddSingleton<TypingService>();
        services.AddSingleton<PresenceListener>();
        services.AddHostedService(sp => sp.GetRequiredService<PresenceListener>());
        services.AddSingleton<GatewayRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayRegistry>());
        return services;
    }

    public static IEndpointRouteBuilder MapPresence(this IEndpointRouteBuilder app)
    {
        // GET /v1/connect: the hub URL of the least-loaded live gateway node.
        app.MapGet("/v1/connect", async (GatewayRegistry registry) =>
                await registry.PickAsync() is { } url
                    ? Results.Ok(new { url })
                    : Results.Problem(statusCode: 503, title: "Service unavailable", detail: "No gateway node is available; try again shortly.",
                        extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Unavailable }))
            .RequireAuthorization()
            .WithTags("Realtime")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}
