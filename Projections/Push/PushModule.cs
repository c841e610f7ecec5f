using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Projections.Push;

public static class PushModule
{
    /// <summary>The <c>projector</c> role's push worker and the MassTransit buses it sends through.</summary>
    public static IServiceCollection AddPushWorker(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new PushOptions
        {
            Exchange = configuration["Realtime:Exchange"] is { Length: > 0 } exchange ? exchange : "chat.events",
            RabbitMq = new Uri(configuration.GetConnectionString("RabbitMq") ?? "amqp://esc:esc@127.0.0.1:55672/"),
            ConfirmTimeout = configuration.GetValue("Realtime:PushConfirmTimeout", TimeSpan.FromSeconds(10)),
        };
        services.AddSingleton(options);
        services.AddSingleton<PushBus>();
        services.AddSingleton<PushMetrics>();
        services.AddSingleton<PushWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<PushWorker>());
        return services;
    }
}
