using System.Security.Cryptography;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Mail;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>
/// The unsubscribe link of every notification mail: <c>{Mail:PublicUrl}/v1/notifications/unsubscribe?token=...</c>, the
/// token the person's user id protected with the key ring every node shares (Data Protection), so it needs no sign-in
/// and cannot be made for someone else.
/// </summary>
public sealed class UnsubscribeLinks(IDataProtectionProvider protection, MailSettings mail)
{
    public const string Path = "/v1/notifications/unsubscribe";

    private readonly IDataProtector _protector = protection.CreateProtector("EventSourcedChat.Notifications.Unsubscribe.v1");

    public string LinkFor(string userId) => $"{mail.PublicUrl}{Path}?token={Uri.EscapeDataString(_protector.Protect(userId))}";

    /// <summary>The user a token was made for, or null for anything forged, damaged or from another key ring.</summary>
    public string? UserOf(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 1000)
        {
            return null;
        }
        try
        {
            var userId = _protector.Unprotect(token);
            return Ids.IsValid(userId) ? userId : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}

public static class UnsubscribeEndpoint
{
    /// <summary>
    /// Following the link (GET, what a mail program opens; or POST, RFC 8058's one-click form) turns notification mail
    /// off for the person it was made for; again, it decides nothing. A token that is not one is 404 <c>not_found</c>.
    /// </summary>
    public static RouteGroupBuilder MapUnsubscribe(this RouteGroupBuilder group)
    {
        group.MapGet("/notifications/unsubscribe", Handle).AllowAnonymous().WithName("UnsubscribeFromNotifications");
        group.MapPost("/notifications/unsubscribe", Handle).AllowAnonymous().WithName("UnsubscribeFromNotificationsOneClick");
        return group;
    }

    private static async Task<Ok<NotificationPreferencesView>> Handle(
        string? token, HttpContext http, UnsubscribeLinks links, ChatEventStore store, CancellationToken ct)
    {
        var userId = links.UserOf(token) ?? throw CommandRejected.NotFound("The unsubscribe link");
        var actor = new Actor(userId, http.TraceIdentifier);
        var patch = new NotificationPatch(false, null, Optional<DndWindow?>.Absent, Optional<DateTimeOffset?>.Absent);
        return TypedResults.Ok(await NotificationPreferencesEndpoint.RunAsync(store, userId, actor,
            user => NotificationPreferencesEndpoint.Decide(user, patch, via: "unsubscribe"), ct));
    }
}
