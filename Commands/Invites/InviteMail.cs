using System.Globalization;
using EventSourcedChat.Commands.Mail;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Commands.Invites;

/// <summary>The mail of an invite by email: who invites to which workspace, the link, until when it works.</summary>
public static class InviteMail
{
    public static OutgoingMail Compose(InviteCreated invite, string workspaceName, string inviterName, string link) => MailTemplate.Compose(
        cause: $"invite:{invite.InviteId}",
        to: invite.Email!,
        subject: $"{inviterName} invited you to {workspaceName} on EventSourcedChat",
        greeting: "Hello,",
        paragraphs:
        [
            $"{inviterName} invited you to join the workspace {workspaceName} on EventSourcedChat.",
            $"The link below works once, until {invite.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC. "
            + $"Sign up with this address ({invite.Email}), or sign in if you already have an account with it, and you are in.",
        ],
        actionLabel: $"Join {workspaceName}",
        actionUrl: link,
        closing: "If you did not expect this invitation, ignore this mail: nothing happens unless the link is followed.");
}
