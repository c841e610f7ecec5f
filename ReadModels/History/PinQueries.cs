using EventSourcedChat.Projections.History;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.ReadModels.History;

/// <summary>
/// A channel's pins: <c>GET /v1/channels/{channelId}/pins</c>, the pinned messages newest pin first, with the visibility
/// and <c>?minPosition=</c> rules of the history queries (a channel the caller may not see is 404).
/// </summary>
public static class PinQueries
{
    /// <summary>Every pin of a channel fits in one answer: the write side caps them (PinsEndpoint.MaxPinsPerChannel, 100).</summary>
    public const int MaxPins = 1_000;

    public static RouteGroupBuilder MapPinQueries(this RouteGroupBuilder group)
    {
        group.MapGet("/channels/{channelId}/pins", GetPinsAsync).WithName("GetPins").Produces<PinnedMessages>()
            .WaitsFor(Projection.CheckpointOf(HistoryProjection.ProjectionName), ChannelAccess.Directory);
        return group;
    }

    private static async Task<IResult> GetPinsAsync(string channelId, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (await ChannelAccess.ForAsync(db, channelId, QueryActor.UserId(http), ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        return Results.Ok(await HistoryStore.PinsAsync(db, channelId, MaxPins, ct));
    }
}
