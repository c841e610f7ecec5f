using EventSourcedChat.Gateway.Telemetry;
using EventSourcedChat.Gateway.Hosting;

namespace EventSourcedChat.Gateway.Realtime;

public static class RealtimeModule
{
    /// <summary>
    /// SignalR, the hub and fan-out. The node's broker link (its queue, bindings and consumer) runs only with the
    /// <c>gateway</c> role.
    /// </summary>
    public static IServiceCollection AddRealtime(this IServiceCollection services, IConfiguration configuration, bool gateway)
    {
        var options = configuration.GetSection("Realtime").Get<RealtimeOptions>() ?? new RealtimeOptions();
        services.AddSingleton(options);
        services.AddSignalR();
        // Last registration of a protocol name wins: replaces the stock "json" protocol (see StrictJsonHubProtocol).
        services.AddSingleton<Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol, StrictJsonHubProtocol>();
        // Registered as the closed type, so it wins over AddSignalR's open-generic default.
        services.AddSingleton<ChatHubLifetimeManager>();
        services.AddSingleton<Microsoft.AspNetCore.SignalR.HubLifetimeManager<ChatHub>>(sp => sp.GetRequiredService<ChatHubLifetimeManager>());
        services.AddSingleton<Microsoft.AspNetCore.SignalR.IUserIdProvider, SubjectUserIdProvider>();
        services.AddSingleton<RealtimeBroker>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton(sp =>
        {
            var registry = new ConnectionRegistry();
            sp.GetRequiredService<GatewayMetrics>().Observe(() => registry.ConnectionCount, () => registry.BoundChannelCount);
            return registry;
        });
        services.AddSingleton<ChannelBindings>();
        services.AddSingleton<MemberChannels>();
        services.AddSingleton<HubConnections>();
        services.AddSingleton<HandOverStats>();
        services.AddSingleton<LogReplay>();
        services.AddSingleton<ResumeHandOver>();
        services.AddSingleton<ChannelFanOut>();
        if (gateway)
        {
            services.AddHostedService<RealtimeBrokerService>();
            services.AddHostedService<RevokedConnections>();
        }
        return services;
    }

    /// <summary>Maps the hub at <c>/v1/gateway</c> on nodes with the <c>gateway</c> role.</summary>
    public static IEndpointRouteBuilder MapRealtime(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetService<Roles>() is not { Gateway: false })
        {
            app.MapHub<ChatHub>("/v1/gateway");
        }
        return app;
    }
}
