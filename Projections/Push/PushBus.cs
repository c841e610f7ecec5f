using MassTransit;
using Microsoft.Extensions.Logging;

namespace EventSourcedChat.Projections.Push;

/// <summary>
/// Starts the MassTransit bus the push worker sends through: a new one for every run of the worker, so that a run that
/// ended on a broker error (a lost connection, a confirm that never came) leaves its connection and channel behind and
/// the next run sends on new ones instead of waiting on a channel that no longer answers.
/// </summary>
public sealed class PushBus(PushOptions options, ILoggerFactory loggers)
{
    /// <summary>Bound of a bus's stop: a bus whose broker vanished may never finish stopping; it is then dropped.</summary>
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(5);

    public async Task<IBusControl> StartAsync(CancellationToken ct)
    {
        LogContext.ConfigureCurrentLogContext(loggers);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
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
        });
        try
        {
            await bus.StartAsync(ct);
            return bus;
        }
        catch
        {
            await StopAsync(bus);
            throw;
        }
    }

    /// <summary>Stops <paramref name="bus"/>, waiting at most <see cref="StopBound"/>; a failure to stop is logged, not thrown.</summary>
    public async Task StopAsync(IBusControl bus)
    {
        try
        {
            await bus.StopAsync(CancellationToken.None).WaitAsync(StopBound);
        }
#pragma warning disable CA1031 // the bus is being dropped; whatever went wrong with it is no reason to stop the worker
        catch (Exception e)
#pragma warning restore CA1031
        {
            loggers.CreateLogger<PushBus>().LogWarning(e, "The push worker's bus did not stop cleanly within {Bound}; dropped", StopBound);
        }
    }
}
