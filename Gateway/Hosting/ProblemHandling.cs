using System.Text.Json;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.EventStore;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;
using Polly.CircuitBreaker;

namespace EventSourcedChat.Gateway.Hosting;

/// <summary>
/// Every error is <c>application/problem+json</c> with a stable <c>code</c>: rejections carry their own, the
/// framework's status answers (bad JSON, 404 routes, 413 bodies) get the code of their status, and an unavailable
/// database is a 503, never a 500.
/// </summary>
internal sealed class ProblemHandling(IProblemDetailsService problems, NpgsqlDataSource dataSource, ILogger<ProblemHandling> logger) : IExceptionHandler
{
    public static void Customize(ProblemDetailsContext context)
    {
        var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
        context.ProblemDetails.Extensions.TryAdd("code", CodeFor(status));
        context.ProblemDetails.Extensions.Remove("traceId");
        context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier);
    }

    public static string CodeFor(int status) => status switch
    {
        400 => ErrorCodes.InvalidRequest,
        401 => ErrorCodes.Unauthenticated,
        403 => ErrorCodes.Forbidden,
        404 => ErrorCodes.NotFound,
        405 => ErrorCodes.MethodNotAllowed,
        409 => ErrorCodes.Conflict,
        413 => ErrorCodes.PayloadTooLarge,
        415 => ErrorCodes.UnsupportedMediaType,
        429 => ErrorCodes.RateLimited,
        503 => ErrorCodes.Unavailable,
        _ when status >= 500 => ErrorCodes.Internal,
        _ => ErrorCodes.InvalidRequest,
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is PostgresException data && DataExceptions.Is(data))
        {
            DataExceptions.ClearPool(dataSource, logger, data);
        }
        var (status, code, detail) = exception switch
        {
            ProblemException r => (r.Status, r.Code, r.Message),
            BadHttpRequestException b => (b.StatusCode, CodeFor(b.StatusCode), BadRequestDetail(b)),
            JsonException => (400, ErrorCodes.InvalidRequest, "The request body is not valid JSON for this endpoint."),
            InvalidAppendException a => (400, ErrorCodes.InvalidRequest, a.Message),
            WrongExpectedVersionException => (409, ErrorCodes.Conflict, "The resource changed concurrently; try again."),
            EventIdConflictException => (409, ErrorCodes.Conflict, "Some of these ids were already used for other changes."),
            // Class 22 (data exception: a NUL or invalid byte in a text parameter, a value out of range) is bad input
            // that got past validation: the client's fault, not an outage (the pool was cleared above: DataExceptions).
            PostgresException when DataExceptions.Is(exception) =>
                (400, ErrorCodes.InvalidRequest, "The request contains a value that cannot be stored (for example a NUL character)."),
            // The circuit is open: PostgreSQL was just found unreachable, so the request is not even tried.
            BrokenCircuitException => (503, ErrorCodes.Unavailable, "The database is unavailable; try again shortly."),
            NpgsqlException or TimeoutException when !ct.IsCancellationRequested =>
                (503, ErrorCodes.Unavailable, "A dependency is unavailable; try again shortly."),
            _ => (500, ErrorCodes.Internal, "Something went wrong on our side."),
        };
        if (status == 503)
        {
            // An outage, not a bug: one line per request, no stack trace.
            logger.LogWarning("Request {Method} {Path} answered 503: {Error}", http.Request.Method, http.Request.Path, exception.Message);
        }
        else if (status >= 500)
        {
            logger.LogError(exception, "Request {Method} {Path} failed", http.Request.Method, http.Request.Path);
        }
        http.Response.StatusCode = status;
        if (status == 503)
        {
            http.Response.Headers.RetryAfter = "1";
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Title = TitleFor(status),
                Detail = detail,
                Extensions = { ["code"] = code },
            },
        });
    }

    private static string BadRequestDetail(BadHttpRequestException e) => e.StatusCode switch
    {
        413 => "The request body is larger than 1 MiB.",
        415 => "Send a JSON body with Content-Type: application/json.",
        _ => e.InnerException is JsonException ? "The request body is not valid JSON for this endpoint." : "The request is malformed.",
    };

    private static string TitleFor(int status) => status switch
    {
        400 => "Invalid request",
        401 => "Unauthenticated",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        413 => "Payload too large",
        415 => "Unsupported media type",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Server error",
    };
}
