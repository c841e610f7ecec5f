using EventSourcedChat.EventStore;
using Polly;
using Polly.CircuitBreaker;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>
/// A circuit breaker (Polly) around the API's requests: once requests found PostgreSQL unreachable (at least half of
/// the last 10 s, two or more), the next ones answer 503 <c>unavailable</c> at once for
/// <see cref="ResilienceOptions.BreakDuration"/>, without each waiting for a connection attempt; then one request
/// probes PostgreSQL again and closes the circuit when it gets through. The hub (<c>/v1/gateway</c>: long-lived
/// connections) and the health endpoints are outside it: health always asks PostgreSQL itself.
/// </summary>
public sealed class PostgresBreaker
{
    private readonly ResiliencePipeline _pipeline;

    public PostgresBreaker(ResilienceOptions options, ILogger<PostgresBreaker> logger)
    {
        _pipeline = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = options.BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ResilienceOptions.IsPostgresOutage),
                OnOpened = args =>
                {
                    logger.LogWarning("PostgreSQL unreachable ({Error}); API requests answer 503 for {BreakDuration}",
                        args.Outcome.Exception?.Message, args.BreakDuration);
                    return default;
                },
                OnClosed = _ =>
                {
                    logger.LogInformation("PostgreSQL answers again; API requests served");
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Requests the breaker guards: the REST API, not the hub, the health endpoints or the web client.</summary>
    public static bool Guards(PathString path) => path.StartsWithSegments("/v1") && !path.StartsWithSegments("/v1/gateway");

    public ValueTask RunAsync(HttpContext http, RequestDelegate next) =>
        _pipeline.ExecuteAsync(static async (state, _) => await state.next(state.http), (next, http), CancellationToken.None);
}

public static class PostgresBreakerExtensions
{
    /// <summary>Runs the rest of the pipeline inside the PostgreSQL circuit breaker; open, it throws <see cref="BrokenCircuitException"/> (503).</summary>
    public static IApplicationBuilder UsePostgresBreaker(this IApplicationBuilder app)
    {
        var breaker = app.ApplicationServices.GetRequiredService<PostgresBreaker>();
        return app.Use((http, next) => PostgresBreaker.Guards(http.Request.Path) ? breaker.RunAsync(http, next).AsTask() : next(http));
    }
}
