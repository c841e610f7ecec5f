namespace EventSourcedChat.Gateway.Presence;

public static class PresenceModule
{
    /// <summary>Presence, typing and the gateway registry used by the connection balancer.</summary>
    public static IServiceCollection AddPresence(this IServiceCollection services)
    {
        services.AddSingleton<PresenceService>();
        services.AddSingleton<TypingService>();
        return services;
    }

    public static IEndpointRouteBuilder MapPresence(this IEndpointRouteBuilder app) => app;
}
