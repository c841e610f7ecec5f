using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Commands.Mail;

/// <summary>Mail as the host registers it: the settings every node needs (commands compose links), the worker on worker nodes.</summary>
public static class MailModule
{
    public static IServiceCollection AddMailSettings(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSingleton(MailSettings.Read(configuration));

    /// <summary>The outbox's sender, unless <c>Mail:Enabled</c> is false.</summary>
    public static IServiceCollection AddMailWorker(this IServiceCollection services, IConfiguration configuration)
    {
        if (MailSettings.Read(configuration).Enabled)
        {
            services.AddHostedService<MailWorker>();
        }
        return services;
    }
}
