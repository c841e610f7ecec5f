using EventSourcedChat.Commands.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Commands.Mail;

/// <summary>A mail a command decided: what it is for (<paramref name="Cause"/>, one mail per cause), to whom, and its two bodies.</summary>
public sealed record OutgoingMail(string Cause, string To, string Subject, string Text, string Html);

/// <summary>
/// The mail outbox (<c>ws_mail_outbox</c>): a command puts its mail here in its own transaction, so a mail exists if
/// and only if the command's events were stored; <see cref="MailWorker"/> sends it.
/// </summary>
public static class MailOutbox
{
    /// <summary>The mail's id (and Message-ID) for its cause: the same cause is the same mail.</summary>
    public static Guid MailIdOf(string cause) => Ids.DeterministicGuid("mail", cause);

    /// <summary>Adds the mail unless one for the same cause is there already.</summary>
    public static Task EnqueueAsync(NpgsqlTransaction tx, OutgoingMail mail, DateTimeOffset now, CancellationToken ct) =>
        tx.ExecuteAsync("""
            insert into ws_mail_outbox (mail_id, cause, recipient, subject, text_body, html_body, created_at, next_attempt_at)
            values ($1, $2, $3, $4, $5, $6, $7, $7)
            on conflict do nothing
            """, ct, MailIdOf(mail.Cause), mail.Cause, mail.To, mail.Subject, mail.Text, mail.Html, now);
}
