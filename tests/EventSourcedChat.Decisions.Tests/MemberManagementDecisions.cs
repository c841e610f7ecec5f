using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Messages;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class RemovingWorkspaceMembers
{
    [Fact]
    public void An_admin_removes_a_member() =>
        Assert.Equal<object>([new WorkspaceMemberRemoved(W, Bob, Alice)], RemoveWorkspaceMemberEndpoint.Decide(Workspace(), 1, Bob, Alice));

    [Fact]
    public void A_member_leaves_by_removing_themselves() =>
        Assert.Equal<object>([new WorkspaceMemberRemoved(W, Carol, null)], RemoveWorkspaceMemberEndpoint.Decide(Workspace(), 1, Carol, Carol));

    [Fact]
    public void A_member_may_not_remove_someone_else_and_an_outsider_finds_no_workspace()
    {
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() => RemoveWorkspaceMemberEndpoint.Decide(Workspace(), 1, Carol, Bob)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => RemoveWorkspaceMemberEndpoint.Decide(Workspace(), 1, Bob, Dave)));
    }

    [Fact]
    public void The_last_admin_can_neither_leave_nor_be_removed()
    {
        var twoAdmins = Workspace(new WorkspaceMemberAdded(W, Bob, "admin", Alice));
        Assert.Equal(ErrorCodes.LastAdmin, RejectionOf(() => RemoveWorkspaceMemberEndpoint.Decide(Workspace(), 1, Alice, Alice)));
        Assert.Equal(ErrorCodes.LastAdmin, RejectionOf(() => RemoveWorkspaceMemberEndpoint.Decide(twoAdmins, 1, Alice, Bob)));
        Assert.Equal<object>([new WorkspaceMemberRemoved(W, Alice, Bob)], RemoveWorkspaceMemberEndpoint.Decide(twoAdmins, 2, Alice, Bob));
        Assert.Equal<object>([new WorkspaceMemberRemoved(W, Alice, null)], RemoveWorkspaceMemberEndpoint.Decide(twoAdmins, 2, Alice, Alice));
    }

    [Fact]
    public void Removing_someone_who_is_not_a_member_changes_nothing() =>
        Assert.Empty(RemoveWorkspaceMemberEndpoint.Decide(Workspace(new WorkspaceMemberRemoved(W, Bob, Alice)), 1, Bob, Alice));

    [Fact]
    public void A_removed_member_is_added_again_as_a_new_member()
    {
        var again = Workspace(new WorkspaceMemberRemoved(W, Bob, Alice), new WorkspaceMemberAdded(W, Bob, "member", Alice));
        Assert.Equal("member", again.RoleOf(Bob));
    }
}

public class ChannelsAfterAWorkspaceRemoval
{
    private static readonly WorkspaceState WithoutBob = Workspace(new WorkspaceMemberRemoved(W, Bob, Alice));

    [Fact]
    public void The_removed_members_channel_membership_ends_and_only_once()
    {
        Assert.Equal<object>([new MemberLeft(C, Bob, Alice)], ChannelMembersEndpoints.DecideEndedByWorkspace(WithoutBob, General(), Bob, Alice));
        Assert.Empty(ChannelMembersEndpoints.DecideEndedByWorkspace(WithoutBob, General(new MemberLeft(C, Bob, Alice)), Bob, Alice));
    }

    [Fact]
    public void A_dms_membership_ends_too()
    {
        var dm = Channel(new ChannelCreated(C, W, "", "dm", null, Bob, [Bob, Carol]));
        Assert.Equal<object>([new MemberLeft(C, Bob, null)], ChannelMembersEndpoints.DecideEndedByWorkspace(WithoutBob, dm, Bob, null));
    }

    [Fact]
    public void A_member_added_back_meanwhile_keeps_the_channel() =>
        Assert.Empty(ChannelMembersEndpoints.DecideEndedByWorkspace(Workspace(), General(), Bob, Alice));

    [Fact]
    public void A_removed_member_whose_membership_is_still_to_end_is_refused_like_an_outsider()
    {
        var privateChannel = Channel([.. GeneralEvents("private")]);
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => PostMessageEndpoint.Decide(WithoutBob, privateChannel, new PostMessage("hi", null, null), "m1", Bob)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => JoinLeaveChannelEndpoint.Decide(WithoutBob, General(), new JoinLeaveChannel(true), Bob)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => ChannelMembersEndpoints.DecideInvite(WithoutBob, General(new MemberJoined(C, Carol, null)), Bob, Carol)));
    }
}

public class DeactivatingUsers
{
    private static readonly UserState Registered = User(new UserRegistered(Dave, "dave@example.com", "Dave", "h"));

    [Fact]
    public void An_instance_admin_deactivates_and_reactivates_a_user()
    {
        Assert.Equal<object>([new UserDeactivated(Dave, Alice)], UserActivationEndpoints.Decide(Registered, true, Alice));
        var deactivated = UserState.Evolve(Registered, new UserDeactivated(Dave, Alice));
        Assert.True(deactivated.Deactivated);
        Assert.Equal<object>([new UserReactivated(Dave, Alice)], UserActivationEndpoints.Decide(deactivated, false, Alice));
        Assert.False(UserState.Evolve(deactivated, new UserReactivated(Dave, Alice)).Deactivated);
    }

    [Fact]
    public void The_same_standing_again_changes_nothing()
    {
        Assert.Empty(UserActivationEndpoints.Decide(Registered, false, Alice));
        Assert.Empty(UserActivationEndpoints.Decide(UserState.Evolve(Registered, new UserDeactivated(Dave, Alice)), true, Alice));
    }

    [Fact]
    public void An_unknown_user_is_not_found_and_no_admin_deactivates_themselves()
    {
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => UserActivationEndpoints.Decide(UserState.Initial, true, Alice)));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => UserActivationEndpoints.Decide(Registered, true, Dave)));
    }
}
