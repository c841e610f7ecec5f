using System.Diagnostics;
using EventSourcedChat.EventStore.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace EventSourcedChat.EventStore;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers the event store, its checkpoints, subscriptions and the append notifier on a data source.</summary>
    /// <remarks>
    /// Unless the connection string sets a <c>Timeout</c>, connection attempts give up after
    /// <see cref="ResilienceOptions.PostgresConnectTimeout"/> (2 s), not Npgsql's 15 s: with PostgreSQL unreachable a
    /// request answers 503 quickly instead of hanging. PostgreSQL ends a session of the host left idle inside a transaction
    /// after <see cref="ResilienceOptions.IdleInTransactionTimeout"/> (see <see cref="ResilienceOptions.ForHost"/>).
    /// </remarks>
    public static IServiceCollection AddEventStore(
        this IServiceCollection services, string connectionString, Action<EventStoreOptions>? configure = null, ResilienceOptions? resilience = null)
    {
        var options = new EventStoreOptions();
        configure?.Invoke(options);
        services.AddSingleton(options);
        resilience ??= new ResilienceOptions();
        services.TryAddSingleton(resilience);
        var forHost = ForHostPool(resilience.ForHost(connectionString));
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(forHost).ConfigureTracing(TraceOnlyInsideASpan).Build());
        services.AddSingleton<Migrator>();
        services.AddMetrics();
        services.AddSingleton<EventStoreMetrics>();
        services.AddSingleton<PostgresEventStore>();
        services.AddSingleton<StreamSetReader>();
        services.AddSingleton<StreamHistoryReader>();
        services.AddSingleton<CheckpointProgress>();
        services.AddSingleton<CheckpointStore>();
        services.AddSingleton<CatchUpSubscription>();
        services.AddSingleton<AppendNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<AppendNotifier>());
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>
    /// The host's pool does not reset a connection it gets back (<c>No Reset On Close</c>), unless the connection string
    /// says otherwise: Npgsql would send <c>DISCARD ALL</c> (or, on a connection with prepared statements, seven statements:
    /// <c>SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; ...</c>) with the connection's next use, several times
    /// per post. Nothing of the host leaves session state on a pooled connection: settings are <c>set local</c>, an open
    /// transaction is still rolled back on return, and the connections that hold a session lock or a <c>LISTEN</c> end it
    /// themselves (<see cref="SessionState"/>). Npgsql's automatic preparation stays off: with it on, the fuzz suite's
    /// bad input still leaves a pooled connection out of step ("Received unexpected backend message DataRow" on its next
    /// command, a 500; seen again with Npgsql 10.0.3), so the hot statements are prepared explicitly where they are sent.
    /// </summary>
    public static string ForHostPool(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }
        return builder.ConnectionString;
    }

    /// <summary>
    /// Database commands are traced only when they run inside a span (an HTTP request, <c>chat.push</c>, a span of a
    /// caller): a background loop's statements (projection batches, the mail worker's poll, the sweepers) would each
    /// start a trace of their own that no one can connect to a message. No "first response" event per command.
    /// </summary>
    static void TraceOnlyInsideASpan(NpgsqlTracingOptionsBuilder tracing) => tracing
        .ConfigureCommandFilter(_ => Activity.Current is not null)
        .ConfigureBatchFilter(_ => Activity.Current is not null)
        .EnableFirstResponseEvent(false);
}
