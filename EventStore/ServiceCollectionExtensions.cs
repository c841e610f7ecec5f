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
    /// How the host's pool treats its connections, unless the connection string says otherwise:
    /// <list type="bullet">
    /// <item>Statements a connection runs again and again are prepared on it (Npgsql's automatic preparation, up to
    /// <see cref="AutoPreparedPerConnection"/> per connection, from a statement's second use): PostgreSQL then plans them once
    /// instead of at every call. Planning took about a quarter of PostgreSQL's CPU under the scenario bench's load (a perf
    /// profile). Npgsql (10.0.3) leaves a connection out of step when the statement it is preparing is refused at Bind
    /// (a NUL in a text parameter): text with a NUL is therefore refused at the API's edge, and a data exception that
    /// still reaches PostgreSQL clears the pool (<see cref="DataExceptions"/>).</item>
    /// <item>A connection that goes back to the pool is not reset (<c>No Reset On Close</c>): Npgsql would otherwise send
    /// seven statements (<c>SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; ...</c>) with its next use, several
    /// times per post. Nothing of the host leaves session state on a pooled connection: settings are <c>set local</c>, an
    /// open transaction is still rolled back on return, and the connections that hold a session lock or a <c>LISTEN</c>
    /// end it themselves (<see cref="SessionState"/>).</item>
    /// </list>
    /// </summary>
    public static string ForHostPool(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = AutoPreparedPerConnection;
            builder.AutoPrepareMinUsages = 2;
        }
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }
        return builder.ConnectionString;
    }

    public const int AutoPreparedPerConnection = 100;

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
