using System.Security.Claims;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Http;

namespace EventSourcedChat.ReadModels.Infrastructure;

/// <summary>The signed-in user a query runs for (the bearer token's <c>sub</c> claim).</summary>
public static class QueryActor
{
    public static string UserId(HttpContext http) => http.User.FindFirstValue(ChatClaims.UserId)
        ?? throw new BadHttpRequestException(ErrorCodes.Unauthenticated, StatusCodes.Status401Unauthorized);

    public static IResult NotFound(string what = "The resource") => Results.Problem(
        statusCode: 404, title: "Not found", detail: $"{what} does not exist.",
        extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.NotFound });

    public static IResult Forbidden(string detail) => Results.Problem(
        statusCode: 403, title: "Forbidden", detail: detail,
        extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Forbidden });

    public static IResult Invalid(string detail) => Results.Problem(
        statusCode: 400, title: "Invalid request", detail: detail,
        extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.InvalidRequest });
}
