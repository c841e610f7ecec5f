using EventSourcedChat.Commands.Messages;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class Pinning
{
    [Fact]
    public void A_member_pins_then_unpins_a_message()
    {
        Assert.Equal(new MessagePinned(C, 3, Bob), PinsEndpoint.Decide(Workspace(), General(Post(Bob)), 3, pin: true, Bob));
        var pinned = General(Post(Bob), new MessagePinned(C, 3, Bob));
        Assert.Equal(new MessageUnpinned(C, 3, Bob), PinsEndpoint.Decide(Workspace(), pinned, 3, pin: false, Bob));
    }

    [Fact]
    public void Any_member_pins_a_reply_or_someone_else_s_message()
    {
        var channel = General(new MemberJoined(C, Carol, null), Post(Bob), Post(Bob, "reply", 4));
        Assert.Equal(new MessagePinned(C, 5, Carol), PinsEndpoint.Decide(Workspace(), channel, 5, pin: true, Carol));
    }

    [Fact]
    public void Pinning_a_pinned_message_or_unpinning_an_unpinned_one_changes_nothing()
    {
        Assert.Null(PinsEndpoint.Decide(Workspace(), General(Post(Bob), new MessagePinned(C, 3, Bob)), 3, pin: true, Bob));
        Assert.Null(PinsEndpoint.Decide(Workspace(), General(Post(Bob)), 3, pin: false, Bob));
        Assert.Null(PinsEndpoint.Decide(Workspace(),
            General(Post(Bob), new MessagePinned(C, 3, Bob), new MessageUnpinned(C, 3, Bob)), 3, pin: false, Bob));
    }

    [Fact]
    public void An_unpinned_message_can_be_pinned_again() =>
        Assert.NotNull(PinsEndpoint.Decide(Workspace(),
            General(Post(Bob), new MessagePinned(C, 3, Bob), new MessageUnpinned(C, 3, Bob)), 3, pin: true, Bob));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_deleted_message_is_not_found(bool pin) =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() =>
            PinsEndpoint.Decide(Workspace(), General(Post(Bob), new MessagePinned(C, 3, Bob), new MessageDeleted(C, 3, Bob)), 3, pin, Bob)));

    [Theory]
    [InlineData(2L)] // member.joined, not a message
    [InlineData(99L)]
    public void A_seq_that_is_no_message_is_not_found(long seq) =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => PinsEndpoint.Decide(Workspace(), General(Post(Bob)), seq, pin: true, Bob)));

    [Fact]
    public void A_workspace_member_outside_the_channel_must_join_first() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() => PinsEndpoint.Decide(Workspace(), General(Post(Bob)), 3, pin: true, Carol)));

    [Theory]
    [InlineData(Carol)] // a workspace member, not in the private channel
    [InlineData(Dave)] // in no workspace
    public void A_private_channel_is_not_found_by_others(string actor) =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() =>
            PinsEndpoint.Decide(Workspace(), Channel([.. GeneralEvents("private"), Post(Bob)]), 3, pin: true, actor)));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_archived_channel_takes_no_pins(bool pin) =>
        Assert.Equal(ErrorCodes.ChannelArchived, RejectionOf(() =>
            PinsEndpoint.Decide(Workspace(), General(Post(Bob), new MessagePinned(C, 3, Bob), new ChannelArchived(C, Bob)), 3, pin, Bob)));

    [Fact]
    public void A_channel_at_the_cap_takes_no_more_pins_but_unpins()
    {
        var posts = Enumerable.Range(0, PinsEndpoint.MaxPinsPerChannel + 1).Select(i => (object)Post(Bob, $"m{i}")).ToList();
        var pins = Enumerable.Range(3, PinsEndpoint.MaxPinsPerChannel).Select(seq => (object)new MessagePinned(C, seq, Bob));
        var full = General([.. posts, .. pins]);
        Assert.Equal(PinsEndpoint.MaxPinsPerChannel, full.PinCount);
        var last = 3L + PinsEndpoint.MaxPinsPerChannel;
        Assert.Equal(ErrorCodes.PinLimitReached, RejectionOf(() => PinsEndpoint.Decide(Workspace(), full, last, pin: true, Bob)));
        Assert.Null(PinsEndpoint.Decide(Workspace(), full, 3, pin: true, Bob)); // pinning a pinned one stays a no-op at the cap
        Assert.Equal(new MessageUnpinned(C, 3, Bob), PinsEndpoint.Decide(Workspace(), full, 3, pin: false, Bob));
    }

    [Fact]
    public void Deleting_a_pinned_message_frees_its_place_under_the_cap()
    {
        var posts = Enumerable.Range(0, PinsEndpoint.MaxPinsPerChannel + 1).Select(i => (object)Post(Bob, $"m{i}")).ToList();
        var pins = Enumerable.Range(3, PinsEndpoint.MaxPinsPerChannel).Select(seq => (object)new MessagePinned(C, seq, Bob));
        var channel = General([.. posts, .. pins, new MessageDeleted(C, 3, Bob)]);
        Assert.Equal(PinsEndpoint.MaxPinsPerChannel - 1, channel.PinCount);
        Assert.NotNull(PinsEndpoint.Decide(Workspace(), channel, 3L + PinsEndpoint.MaxPinsPerChannel, pin: true, Bob));
    }
}

public class FoldingPins
{
    [Fact]
    public void Pins_count_once_per_message_and_a_deletion_unpins()
    {
        var channel = General(Post(Bob), Post(Bob, "two"), new MessagePinned(C, 3, Bob), new MessagePinned(C, 3, Carol),
            new MessagePinned(C, 4, Bob), new MessageDeleted(C, 4, Bob));
        Assert.Equal(1, channel.PinCount);
        Assert.True(channel.Message(3)!.Pinned);
        Assert.False(channel.Message(4)!.Pinned);
    }

    [Fact]
    public void A_pin_of_a_deleted_message_or_of_a_seq_that_is_no_message_changes_nothing_but_the_version()
    {
        var channel = General(Post(Bob), new MessageDeleted(C, 3, Bob), new MessagePinned(C, 3, Bob), new MessagePinned(C, 2, Bob),
            new MessageUnpinned(C, 9, Bob));
        Assert.Equal(0, channel.PinCount);
        Assert.False(channel.Message(3)!.Pinned);
        Assert.Equal(7, channel.Version);
    }
}
