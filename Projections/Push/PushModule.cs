using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Projections.Push;

public static class PushModule
{
    /// <summary>The <c>projector</c> role's push worker and the MassTransit bus it sends through.</summary>
    public static IServiceCollection AddPushWorker(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new PushOptions
        {
            Exchange = configuration["Realtime:Exchange"] is { Length: > 0 } exchange ? exchange : "chat.events",
            RabbitMq = new Uri(configuration.GetConnectionString("RabbitMq") ?? "amqp://esc:esc@127.0.0.1:55672/"),
            ConfirmTimeout = configuration.GetValue("Realtime:PushConfirmTimeout", TimeSpan.FromSeconds(10)),
        };
        services.AddSingleton(options);
        services.AddMassTransit(x => x.UsingRabbitMq((_, cfg) =>
        {
            var uri = options.RabbitMq;
            var credentials = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
            var vhost = uri.AbsolutePath.Length > 1 ? Uri.UnescapeDataString(uri.AbsolutePath[1..]) : "/";
            cfg.Host(uri.Host, (ushort)(uri.Port > 0 ? uri.Port : 5672), vhost, h =>
            {
                h.Username(credentials[0]);
                h.Password(credentials.Length > 1 ? credentials[1] : "");
                h.PublisherConfirmation = true;
            });
            // Gateways read the bodies with RabbitMQ.Client: plain JSON, no MassTransit envelope.
            cfg.UseRawJsonSerializer(isDefault: true);
        }));
        services.AddSingleton<PushWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<PushWorker>());
        return services;
    }
}
