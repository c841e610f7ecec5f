namespace EventSourcedChat.Gateway.Realtime;

public static class RealtimeModule
{
    /// <summary>The <c>gateway</c> role's delivery side: SignalR, the hub and fan-out.</summary>
    public static IServiceCollection AddRealtime(this IServiceCollection services)
    {
        services.AddSignalR();
        services.AddSingleton<Microsoft.AspNetCore.SignalR.IUserIdProvider, SubjectUserIdProvider>();
        services.AddSingleton<ChannelFanOut>();
        return services;
    }

    public static IEndpointRouteBuilder MapRealtime(this IEndpointRouteBuilder app)
    {
        app.MapHub<ChatHub>("/v1/gateway");
        return app;
    }
}
