using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Http;

namespace EventSourcedChat.Commands.Infrastructure;

/// <summary>A decision said no. Carries the HTTP status and stable error code the API answers with.</summary>
public sealed class CommandRejected(int status, string code, string detail) : ProblemException(status, code, detail)
{
    public static CommandRejected Invalid(string detail) => new(StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, detail);

    /// <summary>Also for what exists but the caller may not see: the two are indistinguishable.</summary>
    public static CommandRejected NotFound(string what = "The resource") =>
        new(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"{what} does not exist.");

    public static CommandRejected Forbidden(string detail) => new(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, detail);

    public static CommandRejected Conflict(string code, string detail) => new(StatusCodes.Status409Conflict, code, detail);

    public static CommandRejected Unauthenticated(string detail) => new(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthenticated, detail);
}
