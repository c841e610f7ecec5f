using System.Net;
using System.Text;

namespace EventSourcedChat.Commands.Mail;

/// <summary>
/// The one layout of every mail: a greeting, paragraphs, one action link and a closing line, as plain text and as
/// HTML (every piece HTML-encoded), so the two bodies always say the same.
/// </summary>
public static class MailTemplate
{
    public static OutgoingMail Compose(
        string cause, string to, string subject, string greeting, IReadOnlyList<string> paragraphs, string actionLabel, string actionUrl,
        string closing)
    {
        var text = new StringBuilder();
        text.Append(greeting).Append("\n\n");
        foreach (var p in paragraphs)
        {
            text.Append(p).Append("\n\n");
        }
        text.Append(actionLabel).Append(":\n").Append(actionUrl).Append("\n\n").Append(closing).Append('\n');

        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").Append(E(subject)).Append("</title></head>")
            .Append("<body style=\"font-family: sans-serif; line-height: 1.5\">")
            .Append("<p>").Append(E(greeting)).Append("</p>");
        foreach (var p in paragraphs)
        {
            html.Append("<p>").Append(E(p)).Append("</p>");
        }
        html.Append("<p><a href=\"").Append(E(actionUrl)).Append("\">").Append(E(actionLabel)).Append("</a></p>")
            .Append("<p style=\"color: #666\">").Append(E(closing)).Append("</p></body></html>");
        return new OutgoingMail(cause, to, subject, text.ToString(), html.ToString());
    }
}
