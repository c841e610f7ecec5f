using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EventSourcedChat.Commands.Notifications;

public static class NotificationModule
{
    /// <summary>
    /// The <c>projector</c> role's notification worker, unless <c>Notifications:Enabled</c> is false. It needs the host's
    /// <see cref="Contracts.Notifications.IUserPresence"/> and <see cref="Contracts.Api.ILogRunnerControl"/>.
    /// </summary>
    public static IServiceCollection AddNotificationWorker(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = NotificationSettings.Read(configuration);
        if (!settings.Enabled)
        {
            return services;
        }
        services.TryAddSingleton(settings);
        services.TryAddSingleton<NotificationLog>();
        services.TryAddSingleton<DigestSender>();
        services.AddSingleton<NotificationWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<NotificationWorker>());
        return services;
    }
}
