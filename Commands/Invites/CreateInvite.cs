using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Mail;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Invites;

/// <param name="Email">Mail the invite to this address (one use, only an account with it may accept); none: a shareable link.</param>
/// <param name="MaxUses">A link's use limit (default <see cref="CreateInviteEndpoint.DefaultLinkUses"/>); an email invite has one.</param>
/// <param name="ExpiresAt">When it stops working (default <see cref="CreateInviteEndpoint.DefaultLifetime"/> ahead).</param>
public sealed record CreateInvite(string? Email, int? MaxUses, DateTimeOffset? ExpiresAt);

public sealed record InviteCreatedResponse(string InviteId, string Url, DateTimeOffset ExpiresAt, long Position);

/// <summary>
/// <c>POST /v1/workspaces/{workspaceId}/invites</c>: an admin invites an address (a mail with the link goes through the
/// outbox, in the command's transaction) or makes a shareable link. The answer carries the link: the secret in it is
/// stored nowhere (only its hash), so it cannot be shown again.
/// </summary>
public static class CreateInviteEndpoint
{
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(7);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(30);
    public const int DefaultLinkUses = 100;
    public const int MaxLinkUses = 1_000;

    public static InviteCreated Decide(WorkspaceState workspace, CreateInvite command, string inviteId, string codeHash, DateTimeOffset now, string actorId)
    {
        InviteRules.RequireAdmin(workspace, actorId, "Only workspace admins invite people.");
        var email = command.Email?.Trim().ToLowerInvariant();
        if (email is not null && !RegisterEndpoint.IsValidEmail(email))
        {
            throw CommandRejected.Invalid("email is not a valid email address.");
        }
        if (email is not null && command.MaxUses is not (null or 1))
        {
            throw CommandRejected.Invalid("An invite by email is used once: leave maxUses out (or 1).");
        }
        if (command.MaxUses is < 1 or > MaxLinkUses)
        {
            throw CommandRejected.Invalid($"maxUses is from 1 to {MaxLinkUses}.");
        }
        var expiresAt = command.ExpiresAt?.ToUniversalTime() ?? now + DefaultLifetime;
        if (expiresAt <= now || expiresAt - now > MaxLifetime)
        {
            throw CommandRejected.Invalid($"expiresAt is in the future, at most {MaxLifetime.TotalDays} days ahead.");
        }
        var maxUses = email is null ? command.MaxUses ?? DefaultLinkUses : 1;
        return new InviteCreated(workspace.WorkspaceId, inviteId, codeHash, email, maxUses, expiresAt, actorId);
    }

    public static RouteGroupBuilder MapCreateInvite(this RouteGroupBuilder group)
    {
        group.MapPost("/workspaces/{workspaceId}/invites", Handle).WithName("CreateInvite");
        return group;
    }

    private static async Task<Created<InviteCreatedResponse>> Handle(
        string workspaceId, CreateInvite command, HttpContext http, ChatEventStore store, MailSettings mail, TimeProvider time, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var inviteId = Ids.New();
        var (code, hash) = InviteCodes.New(inviteId);
        var link = InviteCodes.Link(mail.PublicUrl, code);
        InviteCreated? decided = null;
        var result = await WorkspacePipeline.RunAsync(store, actor,
            async (tx, t) => (
                Workspace: await WorkspaceWriteSide.LoadAsync(tx, workspaceId, [actor.UserId], t),
                Inviter: await tx.ScalarAsync<string>("select display_name from ws_users where user_id = $1", t, actor.UserId) ?? ""),
            loaded => loaded.Workspace,
            loaded => [decided = Decide(loaded.Workspace, command, inviteId, hash, time.GetUtcNow(), actor.UserId)], ct,
            also: (tx, loaded, _, events, t) => events is [InviteCreated { Email: not null } created]
                ? MailOutbox.EnqueueAsync(tx, InviteMail.Compose(created, loaded.Workspace.Name, loaded.Inviter, link), time.GetUtcNow(), t)
                : Task.CompletedTask);
        return TypedResults.Created($"/v1/workspaces/{workspaceId}/invites/{inviteId}",
            new InviteCreatedResponse(inviteId, link, decided!.ExpiresAt, result!.Position));
    }
}
