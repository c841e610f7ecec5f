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
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(WithAutoPrepare(connectionString)).Build());
        services.AddSingleton<Migrator>();
        services.AddSingleton<PostgresEventStore>();
        services.AddSingleton<CheckpointStore>();
        services.AddSingleton<CatchUpSubscription>();
        services.AddSingleton<AppendNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<AppendNotifier>());
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>
    /// Turns on Npgsql's automatic preparation unless the connection string sets it: the application sends the same
    /// few statements over and over (appends, projection statements, read-model queries), so each physical connection
    /// parses and plans them once. A connection with prepared statements is also reset on pool reuse without
    /// <c>DISCARD ALL</c>, so server-side function plans (es_append) survive too.
    /// </summary>
    public static string WithAutoPrepare(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }
        return builder.ConnectionString;
    }
}
