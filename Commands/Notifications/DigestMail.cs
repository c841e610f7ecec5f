using System.Globalization;
using System.Net;
using System.Text;
using EventSourcedChat.Commands.Mail;

namespace EventSourcedChat.Commands.Notifications;

/// <summary>One message a digest tells of, with the names it is shown with.</summary>
public sealed record DigestItem(
    string ChannelId, long Seq, string WorkspaceName, string ChannelName, string ChannelKind, string Reason, string AuthorName,
    string Excerpt, DateTimeOffset PostedAt);

/// <summary>
/// The digest mail: the messages a person missed, grouped per workspace, oldest first, as plain text and HTML saying the
/// same, with a link to the app and the unsubscribe link (both in both bodies).
/// </summary>
public static partial class DigestMail
{
    [System.Text.RegularExpressions.GeneratedRegex("<@([0-9a-f]{32})>")]
    private static partial System.Text.RegularExpressions.Regex Mention();

    /// <summary>The user ids mentioned in <paramref name="text"/> (<c>&lt;@id&gt;</c>).</summary>
    public static IEnumerable<string> MentionedIds(string text) => Mention().Matches(text).Select(m => m.Groups[1].Value);

    /// <summary><paramref name="text"/> with each mention of a known person as <c>@display name</c> (others stay as written).</summary>
    public static string NameMentions(string text, IReadOnlyDictionary<string, string> names) =>
        Mention().Replace(text, m => names.TryGetValue(m.Groups[1].Value, out var name) ? "@" + name : m.Value);

    /// <summary>The most messages listed in one mail; the rest are counted.</summary>
    public const int MaxListed = 50;

    public static OutgoingMail Compose(
        string cause, string to, string displayName, IReadOnlyList<DigestItem> items, string appUrl, string unsubscribeUrl)
    {
        var subject = items.Count == 1
            ? $"{items[0].AuthorName} {Verb(items[0])}"
            : $"{items.Count} new messages for you in EventSourcedChat";
        var text = new StringBuilder();
        var html = new StringBuilder();
        static string E(string s) => WebUtility.HtmlEncode(s);
        text.Append("Hi ").Append(displayName).Append(",\n\nWhile you were away:\n");
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").Append(E(subject)).Append("</title></head>")
            .Append("<body style=\"font-family: sans-serif; line-height: 1.5\">")
            .Append("<p>Hi ").Append(E(displayName)).Append(",</p><p>While you were away:</p>");
        foreach (var workspace in items.Take(MaxListed).GroupBy(i => i.WorkspaceName))
        {
            text.Append('\n').Append(workspace.Key).Append('\n');
            html.Append("<h3>").Append(E(workspace.Key)).Append("</h3><ul>");
            foreach (var item in workspace)
            {
                var at = item.PostedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
                var line = $"{item.AuthorName} {Verb(item)} ({at})";
                text.Append("- ").Append(line).Append(":\n  \"").Append(item.Excerpt).Append("\"\n");
                html.Append("<li>").Append(E(line)).Append(":<br><q>").Append(E(item.Excerpt)).Append("</q></li>");
            }
            html.Append("</ul>");
        }
        if (items.Count > MaxListed)
        {
            var more = $"and {items.Count - MaxListed} more.";
            text.Append('\n').Append(more).Append('\n');
            html.Append("<p>").Append(E(more)).Append("</p>");
        }
        const string open = "Open EventSourcedChat";
        const string why = "You get these mails because notification mail is on for your account. Turn it off";
        text.Append('\n').Append(open).Append(":\n").Append(appUrl).Append("\n\n").Append(why).Append(":\n").Append(unsubscribeUrl).Append('\n');
        html.Append("<p><a href=\"").Append(E(appUrl)).Append("\">").Append(open).Append("</a></p>")
            .Append("<p style=\"color: #666\">").Append(E(why)).Append(": <a href=\"").Append(E(unsubscribeUrl)).Append("\">unsubscribe</a></p>")
            .Append("</body></html>");
        return new OutgoingMail(cause, to, subject, text.ToString(), html.ToString());
    }

    private static string Verb(DigestItem item)
    {
        var where = item.ChannelKind == "dm" ? "a direct message" : $"#{item.ChannelName}";
        return item.Reason switch
        {
            "dm" => "sent you a direct message",
            "mention" => $"mentioned you in {where}",
            "channel" => $"notified everyone in {where} (@channel)",
            "here" => $"notified everyone active in {where} (@here)",
            "thread" => $"replied in a thread you follow in {where}",
            _ => $"posted in {where}",
        };
    }
}
