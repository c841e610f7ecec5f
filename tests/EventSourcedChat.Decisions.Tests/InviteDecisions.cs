using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Invites;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

/// <summary>Invites: made and revoked by admins, accepted by someone signed in with the link's secret, within its limits.</summary>
public class Invites
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private const string I = "0000000000000000000000000000f001";
    private const string Secret = "the-link-secret";
    private static readonly string SecretHash = PasswordResetEndpoint.HashOf(Secret);

    private static InviteCreated Link(int maxUses = 2, string? email = null) => new(W, I, SecretHash, email, maxUses, Now.AddDays(7), Alice);

    private static InviteCreated Create(CreateInvite command, string by = Alice) => CreateInviteEndpoint.Decide(Workspace(), command, I, SecretHash, Now, by);

    private static IReadOnlyList<object> Accept(WorkspaceState workspace, string by = Dave, string email = "dave@example.test", string secret = Secret,
        DateTimeOffset? at = null) =>
        AcceptInviteEndpoint.Decide(workspace, I, secret, by, email, at ?? Now);

    [Fact]
    public void An_admin_makes_a_shareable_link_with_a_week_and_a_hundred_uses_by_default() =>
        Assert.Equal(new InviteCreated(W, I, SecretHash, null, CreateInviteEndpoint.DefaultLinkUses, Now.AddDays(7), Alice),
            Create(new CreateInvite(null, null, null)));

    [Fact]
    public void An_invite_by_email_is_for_one_use_and_the_address_is_kept_in_lower_case()
    {
        Assert.Equal(new InviteCreated(W, I, SecretHash, "dave@example.test", 1, Now.AddHours(2), Alice),
            Create(new CreateInvite(" Dave@Example.TEST ", null, Now.AddHours(2))));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Create(new CreateInvite("dave@example.test", 5, null))));
    }

    [Theory]
    [InlineData("not an address", null, 1)]
    [InlineData(null, 0, 1)]
    [InlineData(null, 1001, 1)]
    [InlineData(null, 5, -1)]
    [InlineData(null, 5, 31 * 24)]
    public void Bad_limits_and_addresses_are_invalid(string? email, int? maxUses, int hoursAhead) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Create(new CreateInvite(email, maxUses, Now.AddHours(hoursAhead)))));

    [Fact]
    public void Only_admins_invite_and_revoke_and_outsiders_find_no_workspace()
    {
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() => Create(new CreateInvite(null, null, null), by: Bob)));
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() => Create(new CreateInvite(null, null, null), by: Erin)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => Create(new CreateInvite(null, null, null), by: Dave)));
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() => RevokeInviteEndpoint.Decide(Workspace(Link()), I, Bob)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => RevokeInviteEndpoint.Decide(Workspace(Link()), I, Dave)));
    }

    [Fact]
    public void Revoking_twice_changes_nothing_and_an_unknown_invite_is_not_found()
    {
        Assert.Equal(new InviteRevoked(W, I, Alice), RevokeInviteEndpoint.Decide(Workspace(Link()), I, Alice));
        Assert.Null(RevokeInviteEndpoint.Decide(Workspace(Link(), new InviteRevoked(W, I, Alice)), I, Alice));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => RevokeInviteEndpoint.Decide(Workspace(), I, Alice)));
    }

    [Fact]
    public void Accepting_joins_as_a_member_added_by_the_inviter() =>
        Assert.Equal<object>([new InviteAccepted(W, I, Dave), new WorkspaceMemberAdded(W, Dave, "member", Alice)], Accept(Workspace(Link())));

    [Fact]
    public void A_link_works_as_many_times_as_it_allows()
    {
        var twiceUsed = Workspace(Link(maxUses: 2), new InviteAccepted(W, I, Dave), new WorkspaceMemberAdded(W, Dave, "member", Alice),
            new InviteAccepted(W, I, "000000000000000000000000000000f6"));
        Assert.Equal(2, twiceUsed.InviteOf(I)!.Uses);
        Assert.Equal(ErrorCodes.InviteUsedUp, RejectionOf(() => Accept(twiceUsed, by: "000000000000000000000000000000f7")));
    }

    [Fact]
    public void A_revoked_or_expired_invite_is_gone_and_a_wrong_secret_is_not_found()
    {
        Assert.Equal(ErrorCodes.InviteRevoked, RejectionOf(() => Accept(Workspace(Link(), new InviteRevoked(W, I, Alice)))));
        Assert.Equal(ErrorCodes.InviteExpired, RejectionOf(() => Accept(Workspace(Link()), at: Now.AddDays(7))));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => Accept(Workspace(Link()), secret: Secret + "x")));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => Accept(Workspace(), secret: Secret)));
    }

    [Fact]
    public void An_email_invite_is_for_its_address_only_and_a_member_cannot_use_an_invite()
    {
        var mailed = Workspace(Link(maxUses: 1, email: "dave@example.test"));
        Assert.Equal(2, Accept(mailed, email: "DAVE@example.test").Count);
        Assert.Equal(ErrorCodes.InviteEmailMismatch, RejectionOf(() => Accept(mailed, email: "mallory@example.test")));
        Assert.Equal(ErrorCodes.AlreadyMember, RejectionOf(() => Accept(Workspace(Link()), by: Bob)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0000000000000000000000000000f001")]
    [InlineData("0000000000000000000000000000f001.")]
    [InlineData("not-an-id.secret")]
    [InlineData("0000000000000000000000000000F001.secret")]
    public void Codes_that_cannot_be_one_are_refused_before_anything_is_read(string? code) =>
        Assert.False(InviteCodes.TryParse(code, out _, out _));

    [Fact]
    public void A_new_code_names_its_invite_and_only_its_hash_is_kept()
    {
        var (code, hash) = InviteCodes.New(I);
        Assert.True(InviteCodes.TryParse(code, out var inviteId, out var secret));
        Assert.Equal(I, inviteId);
        Assert.True(InviteCodes.Matches(hash, secret));
        Assert.DoesNotContain(secret, hash, StringComparison.Ordinal);
    }
}
