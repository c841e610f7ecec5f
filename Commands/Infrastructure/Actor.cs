using System.Security.Claims;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.Http;

namespace EventSourcedChat.Commands.Infrastructure;

/// <summary>The signed-in user a command runs for, and the request's correlation id.</summary>
public sealed record Actor(string UserId, string CorrelationId)
{
    public static Actor From(HttpContext http)
    {
        var userId = http.User.FindFirstValue(ChatClaims.UserId)
            ?? throw CommandRejected.Unauthenticated("A bearer token is required.");
        return new Actor(userId, http.TraceIdentifier);
    }
}
