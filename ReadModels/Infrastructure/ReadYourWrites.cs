using System.Globalization;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedChat.ReadModels.Infrastructure;

/// <summary>
/// <c>?minPosition=N</c> (or <c>X-Min-Position: N</c>): the query answers only once every projection it reads has
/// applied the event at position N, waiting up to <see cref="MaxWait"/>; then 503 <c>stale</c>.
/// </summary>
public static class ReadYourWrites
{
    public static TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Adds the wait to every endpoint of the group; <paramref name="projections"/> are the checkpoint names read.</summary>
    public static TBuilder WaitsFor<TBuilder>(this TBuilder builder, params string[] projections) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var raw = http.Request.Query["minPosition"].FirstOrDefault() ?? http.Request.Headers["X-Min-Position"].FirstOrDefault();
            if (raw is null)
            {
                return await next(context);
            }
            if (!long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
            {
                return Results.Problem(statusCode: 400, title: "Invalid request", detail: "minPosition is a non-negative integer.",
                    extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.InvalidRequest });
            }
            var db = http.RequestServices.GetRequiredService<NpgsqlDataSource>();
            return await CaughtUpAsync(db, position, projections, http.RequestAborted)
                ? await next(context)
                : Results.Problem(statusCode: 503, title: "Service unavailable",
                    detail: $"The read models have not reached position {position} yet; try again.",
                    extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Stale });
        });

    public static async Task<bool> CaughtUpAsync(NpgsqlDataSource db, long position, string[] projections, CancellationToken ct)
    {
        // Subscriptions apply events in (transaction id, position) order, so "applied position N" means the checkpoint
        // is at or past event N's (transaction id, position); a position that names no event (a rolled-back append) is
        // reached once the log has gone beyond it.
        var progress = new CheckpointProgress(db);
        var deadline = DateTime.UtcNow + MaxWait;
        var delay = TimeSpan.FromMilliseconds(2);
        while (true)
        {
            if (await progress.AllPassedAsync(position, projections, ct))
            {
                return true;
            }
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(50).Ticks));
        }
    }
}
