using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace EventSourcedChat.EventStore;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers the event store, its checkpoints, subscriptions and the append notifier on a data source.</summary>
    public static IServiceCollection AddEventStore(this IServiceCollection services, string connectionString, Action<EventStoreOptions>? configure = null)
    {
        var options = new EventStoreOptions();
        configure?.Invoke(options);
        services.AddSingleton(options);
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        services.AddSingleton<Migrator>();
        services.AddSingleton<PostgresEventStore>();
        services.AddSingleton<CheckpointStore>();
        services.AddSingleton<CatchUpSubscription>();
        services.AddSingleton<AppendNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<AppendNotifier>());
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
