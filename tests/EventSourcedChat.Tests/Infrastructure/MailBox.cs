using System.Text.RegularExpressions;
using MimeKit;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The mail the application sent, as the local SMTP server of <c>scripts/services.sh</c> (<c>scripts/smtp-sink.py</c>)
/// stored it: one <c>.eml</c> file per mail in <c>ESC_SMTP_MAILDIR</c> (default <c>.data/smtp/mail</c> of this
/// checkout). Tests pick their mail by recipient (every test user's address is unique). No server, no folder: the
/// wait fails, naming the folder.
/// </summary>
public static partial class MailBox
{
    public static string Folder { get; } = Environment.GetEnvironmentVariable("ESC_SMTP_MAILDIR") is { Length: > 0 } dir
        ? dir
        : Path.Combine(RepositoryRoot(), ".data", "smtp", "mail");

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "EventSourcedChat.sln")))
            {
                return d.FullName;
            }
        }
        throw new InvalidOperationException($"No EventSourcedChat.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Every mail received for <paramref name="recipient"/> so far, oldest first.</summary>
    public static List<MimeMessage> To(string recipient)
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }
        var mails = new List<(DateTime At, MimeMessage Mail)>();
        foreach (var file in Directory.EnumerateFiles(Folder, "*.eml"))
        {
            if (!File.ReadAllText(file).Contains(recipient, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var mail = MimeMessage.Load(file);
            if (mail.To.Mailboxes.Any(m => string.Equals(m.Address, recipient, StringComparison.OrdinalIgnoreCase)))
            {
                mails.Add((File.GetLastWriteTimeUtc(file), mail));
            }
        }
        return [.. mails.OrderBy(m => m.At).Select(m => m.Mail)];
    }

    /// <summary>Waits (bounded) until <paramref name="count"/> mails reached <paramref name="recipient"/>; answers them all.</summary>
    public static Task<List<MimeMessage>> WaitAsync(string recipient, int count = 1, TimeSpan? timeout = null) =>
        Eventually.Until(() => Task.FromResult(To(recipient)), mails => mails.Count >= count, timeout ?? TimeSpan.FromSeconds(20),
            $"{count} mail(s) to {recipient} in {Folder} (is the SMTP sink of scripts/services.sh running on 127.0.0.1:55025?)");

    /// <summary>
    /// The one link in the mail that starts with <paramref name="prefix"/>: it must be in the plain text and in the
    /// HTML (as the href of a link).
    /// </summary>
    public static string LinkIn(MimeMessage mail, string prefix)
    {
        Assert.False(string.IsNullOrEmpty(mail.TextBody), "the mail has no plain-text body");
        Assert.False(string.IsNullOrEmpty(mail.HtmlBody), "the mail has no HTML body");
        var link = Assert.Single(Links().Matches(mail.TextBody).Select(m => m.Value).Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Distinct());
        Assert.Contains($"href=\"{System.Net.WebUtility.HtmlEncode(link)}\"", mail.HtmlBody, StringComparison.Ordinal);
        return link;
    }

    /// <summary>A query parameter of a link.</summary>
    public static string QueryOf(string link, string name) =>
        Uri.UnescapeDataString(new Uri(link).Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).Single(p => p[0] == name)[1]);

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Links();
}
