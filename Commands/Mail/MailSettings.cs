using MailKit.Security;
using Microsoft.Extensions.Configuration;

namespace EventSourcedChat.Commands.Mail;

/// <summary>
/// The <c>Mail</c> section: the SMTP server, the sender, the address links in mails point to, and the worker's pace
/// (see docs/operations.md). The defaults are the local SMTP server of <c>scripts/services.sh</c>.
/// </summary>
public sealed record MailSettings(
    bool Enabled, string Host, int Port, SecureSocketOptions Security, string? Username, string? Password,
    string From, string PublicUrl, TimeSpan PollInterval, TimeSpan RetryBase, TimeSpan RetryMax, int MaxAttempts, TimeSpan Lease,
    TimeSpan ResetLinkLifetime)
{
    public static MailSettings Read(IConfiguration configuration)
    {
        var mail = configuration.GetSection("Mail");
        var smtp = mail.GetSection("Smtp");
        return new MailSettings(
            Enabled: mail.GetValue("Enabled", true),
            Host: smtp["Host"] ?? "127.0.0.1",
            Port: smtp.GetValue("Port", 55025),
            Security: Enum.Parse<SecureSocketOptions>(smtp["Security"] ?? nameof(SecureSocketOptions.Auto), ignoreCase: true),
            Username: smtp["Username"],
            Password: smtp["Password"],
            From: mail["From"] ?? "EventSourcedChat <no-reply@eventsourcedchat.local>",
            PublicUrl: (mail["PublicUrl"] ?? "http://127.0.0.1:5080").TrimEnd('/'),
            PollInterval: TimeSpan.FromMilliseconds(mail.GetValue("PollMilliseconds", 500)),
            RetryBase: TimeSpan.FromMilliseconds(mail.GetValue("RetryBaseMilliseconds", 1000)),
            RetryMax: TimeSpan.FromSeconds(mail.GetValue("RetryMaxSeconds", 300)),
            MaxAttempts: mail.GetValue("MaxAttempts", 20),
            Lease: TimeSpan.FromSeconds(mail.GetValue("LeaseSeconds", 60)),
            ResetLinkLifetime: TimeSpan.FromMinutes(mail.GetValue("ResetLinkMinutes", 60)));
    }

    /// <summary>The wait before attempt <paramref name="attempts"/> + 1: doubling from <see cref="RetryBase"/>, at most <see cref="RetryMax"/>.</summary>
    public TimeSpan Backoff(int attempts) =>
        TimeSpan.FromMilliseconds(Math.Min(RetryMax.TotalMilliseconds, RetryBase.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30))));
}
