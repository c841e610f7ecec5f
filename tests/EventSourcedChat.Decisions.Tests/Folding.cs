using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class FoldingAChannel
{
    [Fact]
    public void A_message_seq_is_the_version_of_its_post_and_members_keep_their_join_order()
    {
        var channel = General(new MemberJoined(C, Carol, Bob), Post(Carol), new MemberLeft(C, Bob, null), new MemberJoined(C, Bob, null));
        Assert.Equal(6, channel.Version);
        Assert.Equal(Carol, channel.Message(4)!.AuthorId);
        Assert.Equal([Carol, Bob], channel.MembersInJoinOrder);
    }

    [Fact]
    public void A_dm_starts_with_its_fixed_members_in_their_order()
    {
        var channel = Channel(new ChannelCreated(C, W, "", "dm", null, Bob, [Bob, Carol]), new MemberJoined(C, Bob, null), new MemberJoined(C, Carol, Bob));
        Assert.True(channel.IsDm);
        Assert.Equal([Bob, Carol], channel.MembersInJoinOrder);
    }

    [Fact]
    public void A_deletion_or_reaction_of_a_seq_that_is_no_message_changes_nothing_but_the_version()
    {
        var channel = General(new MessageDeleted(C, 2, Bob), new ReactionAdded(C, 1, "tada", Bob));
        Assert.Empty(channel.Messages);
        Assert.Equal(4, channel.Version);
    }
}
