using System.Globalization;
using System.Security.Cryptography;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Mail;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Accounts;

public sealed record RequestPasswordReset(string? Email);

/// <summary>
/// <c>POST /v1/auth/password-reset</c>: mails a single-use, time-limited link to the account with that address. The
/// answer is 202 whether or not there is such an account (nobody learns who has one), and at most one link is mailed
/// per account per minute (a newer link replaces the older one).
/// </summary>
public static class PasswordResetEndpoint
{
    /// <summary>A link asked for less than this long after the last one is not mailed.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMinutes(1);

    public static IReadOnlyList<object> Decide(UserState user, string tokenHash, DateTimeOffset now, TimeSpan lifetime) =>
        !user.Exists || (user.Reset is { } last && now - last.RequestedAt < MinInterval)
            ? []
            : [new PasswordResetRequested(user.UserId, tokenHash, now, now + lifetime)];

    /// <summary>A reset token: <c>{userId}.{secret}</c>, the secret 32 random bytes in base64url.</summary>
    public static (string Token, string Hash) NewToken(string userId)
    {
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return ($"{userId}.{secret}", HashOf(secret));
    }

    public static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static OutgoingMail Mail(UserState user, long version, string link, DateTimeOffset expiresAt) => MailTemplate.Compose(
        cause: $"password-reset:{user.UserId}:{version}",
        to: user.Email,
        subject: "Reset your EventSourcedChat password",
        greeting: $"Hello {user.DisplayName},",
        paragraphs:
        [
            "Someone (we hope you) asked to reset the password of your EventSourcedChat account.",
            $"The link below works once, until {expiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC. "
            + "Setting a new password signs you out everywhere.",
        ],
        actionLabel: "Choose a new password",
        actionUrl: link,
        closing: "If you did not ask for this, ignore this mail: your password stays as it is.");

    public static RouteGroupBuilder MapPasswordReset(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/password-reset", Handle).AllowAnonymous().WithName("RequestPasswordReset");
        return group;
    }

    private static async Task<Accepted> Handle(
        RequestPasswordReset command, HttpContext http, ChatEventStore store, MailSettings mail, TimeProvider time, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(command.Email))
        {
            throw CommandRejected.Invalid("An email address is required.");
        }
        if (command.Email.Trim().Length <= 254 && await UserWriteSide.FindByEmailAsync(store.DataSource, command.Email, ct) is { } userId)
        {
            var (token, hash) = NewToken(userId);
            var link = $"{mail.PublicUrl}/reset-password?token={Uri.EscapeDataString(token)}";
            await UserPipeline.RunAsync(store, userId, new Actor(userId, http.TraceIdentifier),
                (tx, t) => UserWriteSide.LoadAccountAsync(store.Log, tx, userId, t), u => u,
                user => Decide(user, hash, time.GetUtcNow(), mail.ResetLinkLifetime), ct,
                also: (tx, user, firstVersion, events, t) => events is [PasswordResetRequested requested]
                    ? MailOutbox.EnqueueAsync(tx, Mail(user, firstVersion, link, requested.ExpiresAt), requested.RequestedAt, t)
                    : Task.CompletedTask);
        }
        return TypedResults.Accepted((string?)null);
    }
}
