using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EventSourcedChat.Contracts.Audit;
using EventSourcedChat.EventStore;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.ReadModels.Audit;

/// <summary>
/// <c>GET /v1/audit/channels/{ch}/as-of?at=&amp;limit=&amp;cursor=</c>: the channel as it stood at an instant, written
/// out as it is folded (<see cref="AsOfChannel"/>, then <see cref="AsOfMessages"/> one message at a time), so the
/// server's memory does not grow with the channel. Without <c>limit</c> the answer holds every message; with it, at most
/// <c>limit</c> messages and a <c>nextCursor</c> that carries the instant, the head seq of the first page and the last
/// seq served, so every page shows the same state.
/// </summary>
public static class ChannelAsOfQuery
{
    public const int MaxLimit = 10_000;
    private const int FlushBytes = 64 * 1024;

    public static RouteGroupBuilder MapChannelAsOf(this RouteGroupBuilder group)
    {
        group.MapGet("/as-of", HandleAsync).WithName("AuditAsOf").Produces<ChannelAsOf>();
        return group;
    }

    /// <summary><c>?at=</c> an ISO 8601 instant with an offset (<c>2026-11-23T10:00:00Z</c>), or the <c>?cursor=</c> of a previous page.</summary>
    private static async Task<IResult> HandleAsync(
        string channelId, HttpContext http, NpgsqlDataSource db, PostgresEventStore log, IAuditTrail trail,
        IOptions<JsonOptions> json, CancellationToken ct)
    {
        if (!Paging.TryLimit(http, 0, MaxLimit, out var limit))
        {
            return QueryActor.Invalid($"limit is an integer from 1 to {MaxLimit}.");
        }
        if (!Paging.TryCursor(http, 3, out var cursor) || !TryPosition(cursor, out var from))
        {
            return QueryActor.Invalid("cursor is not one this API gave out: pass the previous page's nextCursor unchanged.");
        }
        var raw = http.Request.Query["at"];
        DateTimeOffset at;
        if (raw.Count == 0 && from is { } page)
        {
            at = page.At;
        }
        else if (raw.Count != 1 || !DateTimeOffset.TryParse(raw[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out at)
                 || !HasOffset(raw[0]!))
        {
            return QueryActor.Invalid("at is an ISO 8601 instant with a time zone, e.g. 2026-11-23T10:00:00Z.");
        }
        else if (from is { } given && given.At != at)
        {
            return QueryActor.Invalid("at is not the instant of the cursor: give the cursor alone, or with the same at.");
        }
        // The recorded range is the stream up to its head when first asked; the state shows the part stored at or before at.
        var head = from?.ToSeq ?? await log.GetStreamVersionAsync(StreamNames.Channel(channelId), ct);
        var afterSeq = from?.AfterSeq ?? 0;
        if (await AuditQueries.RecordAsync(http, trail, channelId, "as-of", afterSeq + 1, head, at, ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        var channel = await AsOfChannel.ReadAsync(db, channelId, at, head, ct);
        var options = json.Value.SerializerOptions;
        return Results.Stream(async body =>
        {
            // JsonSerializer flushes its writer synchronously: it writes to a buffer that goes out asynchronously.
            var buffer = new ArrayBufferWriter<byte>(FlushBytes * 2);
            await using var w = new Utf8JsonWriter(buffer);
            w.WriteStartObject();
            w.WriteString("channelId", channelId);
            w.WritePropertyName("at");
            JsonSerializer.Serialize(w, at, options);
            w.WriteNumber("seq", channel.Seq);
            w.WritePropertyName("name");
            JsonSerializer.Serialize(w, channel.Name, options);
            w.WritePropertyName("kind");
            JsonSerializer.Serialize(w, channel.Kind, options);
            w.WritePropertyName("topic");
            JsonSerializer.Serialize(w, channel.Topic, options);
            w.WriteBoolean("archived", channel.Archived);
            w.WritePropertyName("members");
            JsonSerializer.Serialize(w, channel.Members, options);
            w.WriteStartArray("messages");
            var (count, last) = (0, afterSeq);
            string? next = null;
            await foreach (var message in AsOfMessages.ReadAsync(db, channelId, at, channel.Seq, afterSeq, http.RequestAborted))
            {
                if (limit > 0 && count == limit)
                {
                    next = Paging.Encode(at.ToString("O", CultureInfo.InvariantCulture), Text(head), Text(last));
                    break;
                }
                JsonSerializer.Serialize(w, message, options);
                (count, last) = (count + 1, message.Seq);
                if (buffer.WrittenCount >= FlushBytes)
                {
                    await body.WriteAsync(buffer.WrittenMemory, http.RequestAborted);
                    buffer.ResetWrittenCount();
                }
            }
            w.WriteEndArray();
            w.WriteString("nextCursor", next);
            w.WriteEndObject();
            await w.FlushAsync(http.RequestAborted);
            await body.WriteAsync(buffer.WrittenMemory, http.RequestAborted);
        }, "application/json; charset=utf-8");
    }

    private sealed record Position(DateTimeOffset At, long ToSeq, long AfterSeq);

    private static bool TryPosition(string[]? cursor, out Position? position)
    {
        position = null;
        if (cursor is null)
        {
            return true;
        }
        if (cursor is [var at, var to, var after]
            && DateTimeOffset.TryParseExact(at, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var instant)
            && long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var toSeq)
            && long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var afterSeq) && afterSeq <= toSeq)
        {
            position = new Position(instant, toSeq, afterSeq);
            return true;
        }
        return false;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static bool HasOffset(string value) =>
        value.EndsWith('Z') || value.EndsWith('z') || (value.Length > 6 && value[^6] is '+' or '-' && value[^3] == ':');
}
