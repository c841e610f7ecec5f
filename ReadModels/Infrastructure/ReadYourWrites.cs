using System.Globalization;
using EventSourcedChat.Contracts.Api;
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
        var deadline = DateTime.UtcNow + MaxWait;
        var delay = TimeSpan.FromMilliseconds(2);
        while (true)
        {
            if (await ReachedAsync(db, position, projections, ct))
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

    /// <summary>
    /// Subscriptions apply events in (transaction id, position) order, so "applied position N" means the checkpoint
    /// is at or past event N's (transaction id, position). A position that names no event is reached once the log
    /// has gone beyond it (it was a rolled-back append).
    /// </summary>
    private static async Task<bool> ReachedAsync(NpgsqlDataSource db, long position, string[] projections, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select case
                when e.position is null then $1 <= (select coalesce(max(position), 0) from es_events)
                else (select count(*) from es_checkpoints c
                       where c.name = any($2) and (c.tx_id, c.position) >= (e.tx_id, e.position)) = cardinality($2)
            end
            from (select 1) one left join es_events e on e.position = $1
            """);
        cmd.Parameters.AddWithValue(position);
        cmd.Parameters.AddWithValue(projections);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
