using System.Globalization;
using EventSourcedChat.Projections.History;
using EventSourcedChat.Projections.Profiles;
using EventSourcedChat.ReadModels.Profiles;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.ReadModels.History;

/// <summary>
/// Channel history: pages of top-level messages, one message, and a thread. Every query first checks that the caller
/// may see the channel (a channel they may not see answers 404 exactly as a missing one) and honours
/// <c>?minPosition=</c> for the history, directory and profiles projections (pages and threads name their authors,
/// with avatar URLs: <see cref="MessageAuthors"/>).
/// </summary>
public static class HistoryQueries
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static RouteGroupBuilder MapHistoryQueries(this RouteGroupBuilder group)
    {
        var channel = group.MapGroup("/channels/{channelId}")
            .WaitsFor(Projection.CheckpointOf(HistoryProjection.ProjectionName), ChannelAccess.Directory, ProfileProjection.Checkpoint);
        channel.MapGet("/messages", GetPageAsync).WithName("GetMessages").Produces<MessagePage>();
        channel.MapGet("/messages/{seq:long}", GetMessageAsync).WithName("GetMessage").Produces<MessageView>();
        channel.MapGet("/messages/{seq:long}/thread", GetThreadAsync).WithName("GetThread").Produces<ThreadPage>();
        return group;
    }

    /// <summary><c>?before=seq</c> (newest first), <c>?after=seq</c> (oldest first) or neither (the latest page, newest first).</summary>
    private static async Task<IResult> GetPageAsync(string channelId, HttpContext http, NpgsqlDataSource db, AvatarLinks avatars, CancellationToken ct)
    {
        if (!TryLong(http, "before", out var before) || !TryLong(http, "after", out var after))
        {
            return QueryActor.Invalid("before and after are message seqs: non-negative integers.");
        }
        if (before is not null && after is not null)
        {
            return QueryActor.Invalid("Give before or after, not both.");
        }
        if (!TryLimit(http, out var limit))
        {
            return QueryActor.Invalid($"limit is an integer from 1 to {MaxLimit}.");
        }
        if (await ChannelAccess.ForAsync(db, channelId, QueryActor.UserId(http), ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        var page = await HistoryStore.PageAsync(db, channelId, before, after, limit, ct);
        return Results.Ok(page with { Authors = await MessageAuthors.OfAsync(db, channelId, page.Messages, avatars, ct) });
    }

    /// <summary>One message, top-level or reply (a tombstone if deleted).</summary>
    private static async Task<IResult> GetMessageAsync(string channelId, long seq, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (await ChannelAccess.ForAsync(db, channelId, QueryActor.UserId(http), ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        return await HistoryStore.FindAsync(db, channelId, seq, ct) is { } message
            ? Results.Ok(message)
            : QueryActor.NotFound("The message");
    }

    /// <summary>A thread by its root (a top-level message; a reply's seq is not a thread: 404) and replies after <c>?after=seq</c>, oldest first.</summary>
    private static async Task<IResult> GetThreadAsync(
        string channelId, long seq, HttpContext http, NpgsqlDataSource db, AvatarLinks avatars, CancellationToken ct)
    {
        if (!TryLong(http, "after", out var after))
        {
            return QueryActor.Invalid("after is a message seq: a non-negative integer.");
        }
        if (!TryLimit(http, out var limit))
        {
            return QueryActor.Invalid($"limit is an integer from 1 to {MaxLimit}.");
        }
        if (await ChannelAccess.ForAsync(db, channelId, QueryActor.UserId(http), ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        if (await HistoryStore.FindAsync(db, channelId, seq, ct) is not { ThreadRootSeq: null } root)
        {
            return QueryActor.NotFound("The thread");
        }
        var (replies, hasMore) = await HistoryStore.RepliesAsync(db, channelId, seq, after ?? 0, limit, ct);
        return Results.Ok(new ThreadPage(root, replies, hasMore, await MessageAuthors.OfAsync(db, channelId, [root, .. replies], avatars, ct)));
    }

    /// <summary>An optional non-negative integer query parameter; false when present but not one (or given twice).</summary>
    private static bool TryLong(HttpContext http, string name, out long? value)
    {
        value = null;
        if (!http.Request.Query.TryGetValue(name, out var raw))
        {
            return true;
        }
        if (raw.Count != 1 || !long.TryParse(raw[0], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            return false;
        }
        value = parsed;
        return true;
    }

    private static bool TryLimit(HttpContext http, out int limit)
    {
        limit = DefaultLimit;
        if (!TryLong(http, "limit", out var raw))
        {
            return false;
        }
        if (raw is { } given)
        {
            if (given is < 1 or > MaxLimit)
            {
                return false;
            }
            limit = (int)given;
        }
        return true;
    }
}
