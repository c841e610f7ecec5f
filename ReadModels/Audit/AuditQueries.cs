using System.Globalization;
using System.Text.Json.Serialization;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Audit;
using EventSourcedChat.EventStore;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.ReadModels.Audit;

/// <summary>The result of recomputing a channel's hash chain; <c>firstBadSeq</c> only when the chain is broken.</summary>
public sealed record ChainVerification(
    bool Ok, long Events, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? FirstBadSeq);

/// <summary>
/// Auditors' reads of a channel's log (workspace admins and users with the <c>auditor</c> role; anyone else gets 404):
/// raw events as NDJSON, hash-chain verification, and the channel rebuilt as of an instant. These read the event log,
/// not projections. Each read is first recorded as an <c>audit.read</c> event on the workspace stream, through
/// <see cref="IAuditTrail"/> (the write side owns that stream): the one place a query appends.
/// </summary>
public static class AuditQueries
{
    public static RouteGroupBuilder MapAuditQueries(this RouteGroupBuilder group)
    {
        var audit = group.MapGroup("/audit/channels/{channelId}").WithTags("Audit")
            .RequireRateLimiting(RateLimitPolicies.AuditReads).ProducesProblem(StatusCodes.Status429TooManyRequests);
        audit.MapGet("/events", EventsAsync).WithName("AuditEvents").Produces(200, contentType: "application/x-ndjson");
        audit.MapGet("/verify", VerifyAsync).WithName("AuditVerify").Produces<ChainVerification>();
        audit.MapChannelAsOf();
        return group;
    }

    /// <summary><c>?fromSeq=</c> (inclusive, default 0: from the start) and <c>?limit=</c> (default: to the stream's head when asked).</summary>
    private static async Task<IResult> EventsAsync(
        string channelId, HttpContext http, NpgsqlDataSource db, PostgresEventStore log, IAuditTrail trail, IObjectStore objects,
        FileSettings fileSettings, CancellationToken ct)
    {
        if (!TryLong(http, "fromSeq", out var fromSeq) || !TryLong(http, "limit", out var limit) || limit == 0)
        {
            return QueryActor.Invalid("fromSeq is a non-negative integer and limit a positive one.");
        }
        var stream = StreamNames.Channel(channelId);
        var head = await log.GetStreamVersionAsync(stream, ct);
        var from = Math.Max(fromSeq ?? 0, 1);
        var to = limit is { } l ? Math.Min(head, from + Math.Min(l, long.MaxValue - from) - 1) : head;
        if (await RecordAsync(http, trail, channelId, "events", from, to, null, ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        http.Response.Headers["X-Audit-From-Seq"] = from.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["X-Audit-To-Seq"] = to.ToString(CultureInfo.InvariantCulture);
        var files = AuditFiles.For(objects, fileSettings);
        return Results.Stream(body => AuditExport.WriteAsync(db, stream, from, to, files, body, http.RequestAborted), "application/x-ndjson");
    }

    private static async Task<IResult> VerifyAsync(
        string channelId, HttpContext http, PostgresEventStore log, IAuditTrail trail, CancellationToken ct)
    {
        var stream = StreamNames.Channel(channelId);
        var head = await log.GetStreamVersionAsync(stream, ct);
        if (await RecordAsync(http, trail, channelId, "verify", 1, head, null, ct) is null)
        {
            return QueryActor.NotFound("The channel");
        }
        var result = await log.VerifyStreamAsync(stream, ct);
        return Results.Ok(new ChainVerification(result.Ok, result.Events, result.FirstBadVersion));
    }

    internal static Task<AuditReadRecorded?> RecordAsync(
        HttpContext http, IAuditTrail trail, string channelId, string read, long from, long to, DateTimeOffset? at, CancellationToken ct) =>
        trail.RecordAsync(new AuditReadRequest(channelId, QueryActor.UserId(http), http.TraceIdentifier, read, from, to, at), ct);

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
}
