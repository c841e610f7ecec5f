using System.Security.Claims;
using EventSourcedChat.Contracts.Api;
using Microsoft.AspNetCore.SignalR;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>A connection's user is the bearer token's <c>sub</c> claim.</summary>
internal sealed class SubjectUserIdProvider : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection) => connection.User.FindFirstValue(ChatClaims.UserId);
}
