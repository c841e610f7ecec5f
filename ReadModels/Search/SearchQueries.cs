using System.Globalization;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Projections.Search;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace EventSourcedChat.ReadModels.Search;

public sealed record SearchResponse(IReadOnlyList<SearchHit> Results, bool HasMore);

/// <summary><c>GET /v1/search</c>: messages of the caller's channels in a workspace.</summary>
public static class SearchQueries
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    public const int MaxQueryLength = 200;

    public static RouteGroupBuilder MapSearchQueries(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/search").WaitsFor(SearchProjection.Checkpoint, ChannelAccess.Directory);
        group.MapGet("", SearchAsync).WithName("SearchMessages")
            .WithSummary("Search the messages of the caller's channels in a workspace")
            .Produces<SearchResponse>();
        return v1;
    }

    private static async Task<IResult> SearchAsync(HttpContext http, IMessageSearch search, NpgsqlDataSource db, CancellationToken ct)
    {
        var userId = QueryActor.UserId(http);
        var (query, error) = Parse(http.Request.Query);
        if (query is null)
        {
            return QueryActor.Invalid(error!);
        }
        if (!await InWorkspaceAsync(db, query.WorkspaceId, userId, ct))
        {
            return QueryActor.NotFound("The workspace");
        }
        if (query.ChannelId is { } channelId
            && (await ChannelAccess.ForAsync(db, channelId, userId, ct) is not { } access || access.WorkspaceId != query.WorkspaceId))
        {
            return QueryActor.NotFound("The channel");
        }
        var found = await search.SearchAsync(query, userId, ct);
        return TypedResults.Ok(new SearchResponse(found.Results, found.HasMore));
    }

    /// <summary>The query, or why it is invalid.</summary>
    public static (SearchQuery? Query, string? Error) Parse(IQueryCollection args)
    {
        var workspaceId = One(args["workspaceId"])?.Trim();
        if (string.IsNullOrEmpty(workspaceId))
        {
            return (null, "workspaceId is required.");
        }
        var q = One(args["q"])?.Trim();
        if (string.IsNullOrEmpty(q) || q.Length > MaxQueryLength)
        {
            return (null, $"q is required: 1 to {MaxQueryLength} characters.");
        }
        if (q.Contains('\0', StringComparison.Ordinal))
        {
            return (null, "q may not contain NUL characters.");
        }
        var limit = DefaultLimit;
        if (One(args["limit"]) is { } rawLimit
            && (!int.TryParse(rawLimit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            return (null, $"limit is an integer from 1 to {MaxLimit}.");
        }
        if (!TryTimestamp(args["before"], out var before) || !TryTimestamp(args["after"], out var after))
        {
            return (null, "before and after are ISO 8601 timestamps, e.g. 2025-01-31T12:00:00Z.");
        }
        var (operators, invalid) = SearchOperators.Parse(q);
        if (operators is null)
        {
            return (null, invalid);
        }
        if (!TryAgree(Blank(One(args["channelId"])), operators.In, out var channelId) || !TryAgree(Blank(One(args["fromUserId"])), operators.From, out var fromUserId))
        {
            return (null, "in: and from: in q must agree with channelId and fromUserId when both are given.");
        }
        return (new SearchQuery(workspaceId, operators.Text, channelId, fromUserId, before, after, limit, operators.HasFile, operators.HasImage), null);
    }

    /// <summary>A filter given both as a parameter and as an operator of q: the same value, or the query is refused.</summary>
    private static bool TryAgree(string? parameter, string? inQuery, out string? value)
    {
        value = parameter ?? inQuery;
        return parameter is null || inQuery is null || parameter == inQuery;
    }

    private static string? One(StringValues values) => values.Count == 0 ? null : values[^1];

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool TryTimestamp(StringValues values, out DateTimeOffset? at)
    {
        at = null;
        if (Blank(One(values)) is not { } raw)
        {
            return true;
        }
        // ISO 8601 only (a date, or a date and time with an optional offset; none means UTC).
        if (raw.Length < 10 || raw[4] != '-' || raw[7] != '-'
            || !DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return false;
        }
        at = parsed;
        return true;
    }

    private static async Task<bool> InWorkspaceAsync(NpgsqlDataSource db, string workspaceId, string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select exists (select 1 from rm_directory.workspace_members where workspace_id = $1 and user_id = $2)");
        cmd.Parameters.AddWithValue(workspaceId);
        cmd.Parameters.AddWithValue(userId);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
