using MailKit.Net.Smtp;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MimeKit;
using Npgsql;

namespace EventSourcedChat.Commands.Mail;

/// <summary>
/// Sends the outbox's mails over SMTP (MailKit). Any number of nodes may run it: each claims due mails in one short
/// statement (<c>for update skip locked</c>, moving their next attempt past a lease), sends them on one SMTP
/// connection, then marks each sent or schedules its retry with a doubling backoff. A mail is sent again only if the
/// worker died after the SMTP server accepted it and before it was marked (its Message-ID is the same, derived from
/// its cause); a permanent refusal (5xx) or <see cref="MailSettings.MaxAttempts"/> failures stop its retries.
/// </summary>
public sealed class MailWorker(NpgsqlDataSource db, MailSettings settings, TimeProvider time, ILogger<MailWorker> logger) : BackgroundService
{
    private const int BatchSize = 20;

    private sealed record Claimed(Guid MailId, string To, string Subject, string Text, string Html, int Attempts);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await SendDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning(e, "Mail worker: could not read the outbox; trying again in {Delay}", settings.PollInterval);
            }
            if (claimed < BatchSize)
            {
                try
                {
                    await Task.Delay(settings.PollInterval, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Claims the due mails and tries each once. Answers how many were claimed.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        var due = await ClaimAsync(ct);
        if (due.Count == 0)
        {
            return 0;
        }
        using var smtp = new SmtpClient { Timeout = 30_000 };
        foreach (var mail in due)
        {
            try
            {
                if (!smtp.IsConnected)
                {
                    await smtp.ConnectAsync(settings.Host, settings.Port, settings.Security, ct);
                    if (!string.IsNullOrEmpty(settings.Username))
                    {
                        await smtp.AuthenticateAsync(settings.Username, settings.Password ?? "", ct);
                    }
                }
                await smtp.SendAsync(Message(mail), ct);
                await MarkSentAsync(mail.MailId);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                var permanent = e is SmtpCommandException { StatusCode: var code } && (int)code >= 500;
                var giveUp = permanent || mail.Attempts >= settings.MaxAttempts;
                logger.LogWarning("Mail {MailId} to {To}, attempt {Attempt}, failed: {Error}{GivingUp}", mail.MailId, mail.To, mail.Attempts,
                    e.Message, giveUp ? "; giving up" : "");
                await MarkFailedAsync(mail, e.Message, giveUp, ct);
                if (smtp.IsConnected && e is not SmtpCommandException)
                {
                    await smtp.DisconnectAsync(quit: false, CancellationToken.None);
                }
            }
        }
        if (smtp.IsConnected)
        {
            await smtp.DisconnectAsync(quit: true, ct);
        }
        return due.Count;
    }

    private MimeMessage Message(Claimed mail)
    {
        var message = new MimeMessage { Subject = mail.Subject, MessageId = $"{mail.MailId:N}@eventsourcedchat" };
        message.From.Add(MailboxAddress.Parse(settings.From));
        message.To.Add(MailboxAddress.Parse(mail.To));
        message.Body = new BodyBuilder { TextBody = mail.Text, HtmlBody = mail.Html }.ToMessageBody();
        return message;
    }

    private async Task<List<Claimed>> ClaimAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand("""
            update ws_mail_outbox o set attempts = o.attempts + 1, next_attempt_at = $1 + $2
             where o.mail_id in (select mail_id from ws_mail_outbox where sent_at is null and next_attempt_at <= $1
                                  order by next_attempt_at limit $3 for update skip locked)
            returning o.mail_id, o.recipient, o.subject, o.text_body, o.html_body, o.attempts
            """);
        cmd.Parameters.AddWithValue(now);
        cmd.Parameters.AddWithValue(settings.Lease);
        cmd.Parameters.AddWithValue(BatchSize);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var claimed = new List<Claimed>();
        while (await reader.ReadAsync(ct))
        {
            claimed.Add(new Claimed(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5)));
        }
        return claimed;
    }

    private async Task MarkSentAsync(Guid mailId)
    {
        // The bodies go: a sent mail may hold a live reset or invite link, which the database need not keep.
        await using var cmd = db.CreateCommand(
            "update ws_mail_outbox set sent_at = $2, text_body = '', html_body = '', last_error = null where mail_id = $1");
        cmd.Parameters.AddWithValue(mailId);
        cmd.Parameters.AddWithValue(time.GetUtcNow());
        await cmd.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private async Task MarkFailedAsync(Claimed mail, string error, bool giveUp, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            update ws_mail_outbox set next_attempt_at = case when $4 then 'infinity'::timestamptz else $2 end, last_error = $3
             where mail_id = $1 and sent_at is null
            """);
        cmd.Parameters.AddWithValue(mail.MailId);
        cmd.Parameters.AddWithValue(time.GetUtcNow() + settings.Backoff(mail.Attempts));
        cmd.Parameters.AddWithValue(error);
        cmd.Parameters.AddWithValue(giveUp);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
