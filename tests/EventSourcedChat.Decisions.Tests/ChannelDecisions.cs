using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class CreatingChannels
{
    [Fact]
    public void A_workspace_member_creates_a_channel_and_joins_it()
    {
        var events = CreateChannelEndpoint.Decide(Workspace(), C, new CreateChannel(" general ", null, " hello "), Carol);
        Assert.Equal<object>([new ChannelCreated(C, W, "general", "public", "hello", Carol, []), new MemberJoined(C, Carol, null)], events);
    }

    [Fact]
    public void A_private_channel_is_created_private() =>
        Assert.Equal("private", ((ChannelCreated)CreateChannelEndpoint.Decide(Workspace(), C, new CreateChannel("x", true, null), Bob)[0]).Kind);

    [Fact]
    public void Someone_outside_the_workspace_finds_no_workspace() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => CreateChannelEndpoint.Decide(Workspace(), C, new CreateChannel("x", null, null), Dave)));

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("has space")]
    public void A_bad_name_is_invalid(string name) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => CreateChannelEndpoint.Decide(Workspace(), C, new CreateChannel(name, null, null), Bob)));
}

public class OpeningDms
{
    [Fact]
    public void A_dm_is_created_with_its_fixed_members_each_of_whom_joins()
    {
        var members = OpenDmEndpoint.MemberSet(new OpenDm([Carol, Bob, Carol]), Bob);
        Assert.Equal([Bob, Carol], members);
        var events = OpenDmEndpoint.Decide(Workspace(), C, members, Bob);
        Assert.Equal<object>(
            [new ChannelCreated(C, W, "", "dm", null, Bob, members), new MemberJoined(C, Bob, null), new MemberJoined(C, Carol, Bob)], events);
    }

    [Fact]
    public void A_dm_with_nobody_else_is_invalid() =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => OpenDmEndpoint.MemberSet(new OpenDm([Bob]), Bob)));

    [Fact]
    public void A_dm_with_someone_outside_the_workspace_finds_no_user() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => OpenDmEndpoint.Decide(Workspace(), C, [Bob, Dave], Bob)));

    [Fact]
    public void Someone_outside_the_workspace_finds_no_workspace() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => OpenDmEndpoint.Decide(Workspace(), C, [Bob, Dave], Dave)));
}

public class UpdatingChannels
{
    [Fact]
    public void A_member_renames_the_channel_and_sets_its_topic() =>
        Assert.Equal<object>([new ChannelRenamed(C, "random", Bob), new ChannelTopicSet(C, "fun", Bob)],
            UpdateChannelEndpoint.Decide(Workspace(), General(), new UpdateChannel("random", "fun"), Bob));

    [Fact]
    public void What_already_holds_changes_nothing() =>
        Assert.Empty(UpdateChannelEndpoint.Decide(Workspace(), General(), new UpdateChannel("general", null), Bob));

    [Fact]
    public void An_empty_topic_clears_it() =>
        Assert.Equal<object>([new ChannelTopicSet(C, null, Bob)],
            UpdateChannelEndpoint.Decide(Workspace(), General(new ChannelTopicSet(C, "old", Bob)), new UpdateChannel(null, " "), Bob));

    [Fact]
    public void A_workspace_member_outside_the_channel_must_join_first() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() => UpdateChannelEndpoint.Decide(Workspace(), General(), new UpdateChannel("x", null), Carol)));

    [Fact]
    public void An_archived_channel_is_read_only() =>
        Assert.Equal(ErrorCodes.ChannelArchived, RejectionOf(() =>
            UpdateChannelEndpoint.Decide(Workspace(), General(new ChannelArchived(C, Bob)), new UpdateChannel("x", null), Bob)));

    [Fact]
    public void A_dm_cannot_be_renamed() =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() =>
            UpdateChannelEndpoint.Decide(Workspace(), Channel(GeneralEvents("dm")), new UpdateChannel("x", null), Bob)));
}

public class ArchivingChannels
{
    [Fact]
    public void The_creator_archives_and_unarchives()
    {
        Assert.Equal<object>([new ChannelArchived(C, Bob)], ArchiveChannelEndpoint.Decide(Workspace(), General(), new ArchiveChannel(true), Bob));
        Assert.Equal<object>([new ChannelUnarchived(C, Bob)],
            ArchiveChannelEndpoint.Decide(Workspace(), General(new ChannelArchived(C, Bob)), new ArchiveChannel(false), Bob));
    }

    [Fact]
    public void A_workspace_admin_archives_a_channel_they_are_not_in() =>
        Assert.Equal<object>([new ChannelArchived(C, Alice)], ArchiveChannelEndpoint.Decide(Workspace(), General(), new ArchiveChannel(true), Alice));

    [Fact]
    public void Archiving_an_archived_channel_changes_nothing() =>
        Assert.Empty(ArchiveChannelEndpoint.Decide(Workspace(), General(new ChannelArchived(C, Bob)), new ArchiveChannel(true), Bob));

    [Fact]
    public void Another_member_is_forbidden() =>
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() =>
            ArchiveChannelEndpoint.Decide(Workspace(), General(new MemberJoined(C, Carol, null)), new ArchiveChannel(true), Carol)));

    [Fact]
    public void A_private_channel_is_not_found_by_a_non_member() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => ArchiveChannelEndpoint.Decide(Workspace(), Channel(GeneralEvents("private")), new ArchiveChannel(true), Carol)));

    [Fact]
    public void A_channel_that_does_not_exist_is_not_found() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => ArchiveChannelEndpoint.Decide(Workspace(), ChannelState.Initial, new ArchiveChannel(true), Alice)));
}

public class JoiningAndLeaving
{
    [Fact]
    public void A_workspace_member_joins_a_public_channel() =>
        Assert.Equal<object>([new MemberJoined(C, Carol, null)], JoinLeaveChannelEndpoint.Decide(Workspace(), General(), new JoinLeaveChannel(true), Carol));

    [Fact]
    public void Joining_again_changes_nothing() =>
        Assert.Empty(JoinLeaveChannelEndpoint.Decide(Workspace(), General(), new JoinLeaveChannel(true), Bob));

    [Fact]
    public void A_private_channel_is_not_found_when_joining() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => JoinLeaveChannelEndpoint.Decide(Workspace(), Channel(GeneralEvents("private")), new JoinLeaveChannel(true), Carol)));

    [Fact]
    public void Someone_outside_the_workspace_does_not_find_a_public_channel() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => JoinLeaveChannelEndpoint.Decide(Workspace(), General(), new JoinLeaveChannel(true), Dave)));

    [Fact]
    public void An_archived_channel_cannot_be_joined() =>
        Assert.Equal(ErrorCodes.ChannelArchived, RejectionOf(() =>
            JoinLeaveChannelEndpoint.Decide(Workspace(), General(new ChannelArchived(C, Bob)), new JoinLeaveChannel(true), Carol)));

    [Fact]
    public void A_member_leaves() =>
        Assert.Equal<object>([new MemberLeft(C, Bob, null)], JoinLeaveChannelEndpoint.Decide(Workspace(), General(), new JoinLeaveChannel(false), Bob));

    [Fact]
    public void A_non_member_cannot_leave() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() => JoinLeaveChannelEndpoint.Decide(Workspace(), General(), new JoinLeaveChannel(false), Carol)));

    [Fact]
    public void Nobody_leaves_a_dm() =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => JoinLeaveChannelEndpoint.Decide(Workspace(), Channel(GeneralEvents("dm")), new JoinLeaveChannel(false), Bob)));
}

public class ChannelMembers
{
    [Fact]
    public void A_member_invites_a_workspace_member() =>
        Assert.Equal<object>([new MemberJoined(C, Carol, Bob)], ChannelMembersEndpoints.DecideInvite(Workspace(), General(), Carol, Bob));

    [Fact]
    public void Inviting_a_member_again_changes_nothing() =>
        Assert.Empty(ChannelMembersEndpoints.DecideInvite(Workspace(), General(new MemberJoined(C, Carol, Bob)), Carol, Bob));

    [Fact]
    public void Inviting_someone_outside_the_workspace_finds_no_user() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => ChannelMembersEndpoints.DecideInvite(Workspace(), General(), Dave, Bob)));

    [Fact]
    public void A_non_member_cannot_invite() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() => ChannelMembersEndpoints.DecideInvite(Workspace(), General(), Erin, Carol)));

    [Fact]
    public void Nobody_is_invited_into_an_archived_channel() =>
        Assert.Equal(ErrorCodes.ChannelArchived, RejectionOf(() =>
            ChannelMembersEndpoints.DecideInvite(Workspace(), General(new ChannelArchived(C, Bob)), Carol, Bob)));

    [Fact]
    public void The_creator_removes_a_member() =>
        Assert.Equal<object>([new MemberLeft(C, Carol, Bob)],
            ChannelMembersEndpoints.DecideRemove(Workspace(), General(new MemberJoined(C, Carol, null)), Carol, Bob));

    [Fact]
    public void A_member_who_is_neither_creator_nor_admin_may_not_remove() =>
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() =>
            ChannelMembersEndpoints.DecideRemove(Workspace(), General(new MemberJoined(C, Carol, null)), Bob, Carol)));

    [Fact]
    public void Removing_someone_not_in_the_channel_finds_no_member() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => ChannelMembersEndpoints.DecideRemove(Workspace(), General(), Carol, Alice)));
}

public class LegalHolds
{
    [Fact]
    public void A_workspace_admin_places_and_lifts_a_hold_on_a_private_channel_they_are_not_in()
    {
        var channel = Channel(GeneralEvents("private"));
        Assert.Equal<object>([new LegalHoldPlaced(C, "case 7", Alice)], LegalHoldEndpoint.Decide(Workspace(), channel, new LegalHold(true, " case 7 "), Alice));
        Assert.Equal<object>([new LegalHoldLifted(C, Alice)],
            LegalHoldEndpoint.Decide(Workspace(), Channel([.. GeneralEvents("private"), new LegalHoldPlaced(C, null, Alice)]), new LegalHold(false, null), Alice));
    }

    [Fact]
    public void The_same_state_again_changes_nothing() =>
        Assert.Empty(LegalHoldEndpoint.Decide(Workspace(), General(new LegalHoldPlaced(C, null, Alice)), new LegalHold(true, null), Alice));

    [Fact]
    public void A_member_who_sees_the_channel_is_forbidden() =>
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() => LegalHoldEndpoint.Decide(Workspace(), General(), new LegalHold(true, null), Bob)));

    [Fact]
    public void Someone_who_does_not_see_the_channel_finds_none() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => LegalHoldEndpoint.Decide(Workspace(), Channel(GeneralEvents("private")), new LegalHold(true, null), Carol)));

    [Fact]
    public void A_long_reason_is_invalid() =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() =>
            LegalHoldEndpoint.Decide(Workspace(), General(), new LegalHold(true, new string('x', LegalHoldEndpoint.MaxReasonLength + 1)), Alice)));
}
