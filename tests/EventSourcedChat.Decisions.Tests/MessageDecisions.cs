using EventSourcedChat.Commands.Messages;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class PostingMessages
{
    [Fact]
    public void A_member_posts_trimmed_text_with_its_mentions()
    {
        var posted = PostMessageEndpoint.Decide(Workspace(), General(), new PostMessage($"  hi <@{Carol}> @here ", null, null), "m1", Bob);
        Assert.Equal(new MessagePosted(C, "m1", Bob, $"hi <@{Carol}> @here", null, posted.Mentions), posted);
        Assert.Equal([Carol], posted.Mentions.UserIds);
        Assert.True(posted.Mentions.Here);
    }

    [Fact]
    public void A_reply_names_a_live_top_level_message() =>
        Assert.Equal(3, PostMessageEndpoint.Decide(Workspace(), General(Post(Bob)), new PostMessage("re", null, 3), "m2", Bob).ThreadRootSeq);

    [Theory]
    [InlineData(2)] // member.joined, not a message
    [InlineData(4)] // a reply
    [InlineData(5)] // a deleted message
    [InlineData(99)]
    public void A_reply_to_anything_else_is_invalid(long root)
    {
        var channel = General(Post(Bob), Post(Bob, "reply", 3), Post(Bob, "gone"), new MessageDeleted(C, 5, Bob));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => PostMessageEndpoint.Decide(Workspace(), channel, new PostMessage("re", null, root), "m", Bob)));
    }

    [Fact]
    public void A_workspace_member_outside_the_channel_must_join_first() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() => PostMessageEndpoint.Decide(Workspace(), General(), new PostMessage("hi", null, null), "m", Carol)));

    [Fact]
    public void A_member_who_left_must_join_again() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() =>
            PostMessageEndpoint.Decide(Workspace(), General(new MemberLeft(C, Bob, null)), new PostMessage("hi", null, null), "m", Bob)));

    [Fact]
    public void A_private_channel_is_not_found_by_others() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() =>
            PostMessageEndpoint.Decide(Workspace(), Channel(GeneralEvents("private")), new PostMessage("hi", null, null), "m", Carol)));

    [Fact]
    public void An_archived_channel_takes_no_posts() =>
        Assert.Equal(ErrorCodes.ChannelArchived, RejectionOf(() =>
            PostMessageEndpoint.Decide(Workspace(), General(new ChannelArchived(C, Bob)), new PostMessage("hi", null, null), "m", Bob)));

    [Theory]
    [InlineData("   ", ErrorCodes.InvalidRequest)]
    [InlineData("a\0b", ErrorCodes.InvalidRequest)]
    public void Bad_text_is_rejected(string text, string code) =>
        Assert.Equal(code, RejectionOf(() => PostMessageEndpoint.Decide(Workspace(), General(), new PostMessage(text, null, null), "m", Bob)));

    [Fact]
    public void Text_over_the_limit_is_too_long() =>
        Assert.Equal(ErrorCodes.MessageTooLong, RejectionOf(() =>
            PostMessageEndpoint.Decide(Workspace(), General(), new PostMessage(new string('x', MessageRules.MaxTextLength + 1), null, null), "m", Bob)));
}

public class EditingMessages
{
    [Fact]
    public void The_author_edits_a_live_message() =>
        Assert.Equal(new MessageEdited(C, 3, "new", Mentions.None, Bob),
            EditMessageEndpoint.Decide(Workspace(), General(Post(Bob)), 3, new EditMessage(" new "), Bob));

    [Fact]
    public void Someone_else_may_not_edit() =>
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() =>
            EditMessageEndpoint.Decide(Workspace(), General(Post(Bob)), 3, new EditMessage("x"), Alice)));

    [Fact]
    public void A_deleted_message_or_a_seq_that_is_no_message_is_not_found()
    {
        var channel = General(Post(Bob), new MessageDeleted(C, 3, Bob));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => EditMessageEndpoint.Decide(Workspace(), channel, 3, new EditMessage("x"), Bob)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => EditMessageEndpoint.Decide(Workspace(), channel, 1, new EditMessage("x"), Bob)));
    }

    [Fact]
    public void An_author_who_left_must_join_again() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() =>
            EditMessageEndpoint.Decide(Workspace(), General(Post(Bob), new MemberLeft(C, Bob, null)), 3, new EditMessage("x"), Bob)));

    [Fact]
    public void An_archived_channel_is_read_only() =>
        Assert.Equal(ErrorCodes.ChannelArchived, RejectionOf(() =>
            EditMessageEndpoint.Decide(Workspace(), General(Post(Bob), new ChannelArchived(C, Bob)), 3, new EditMessage("x"), Bob)));
}

public class DeletingMessages
{
    private static readonly object[] CarolPosted = [new MemberJoined(C, Carol, null), Post(Carol)];

    [Theory]
    [InlineData(Carol)] // the author
    [InlineData(Bob)] // the channel's creator
    [InlineData(Alice)] // a workspace admin
    public void The_author_the_creator_or_an_admin_deletes(string by) =>
        Assert.Equal(new MessageDeleted(C, 4, by), DeletingMessagesDecide(General(CarolPosted), by));

    [Fact]
    public void Another_member_may_not() =>
        Assert.Equal(ErrorCodes.Forbidden, RejectionOf(() =>
            DeleteMessageEndpoint.Decide(Workspace(), General([.. CarolPosted, new MemberJoined(C, Erin, null)]), 4, Erin)));

    [Fact]
    public void Deleting_a_deleted_message_changes_nothing_even_when_archived() =>
        Assert.Null(DeletingMessagesDecide(General([.. CarolPosted, new MessageDeleted(C, 4, Carol), new ChannelArchived(C, Bob)]), Carol));

    [Fact]
    public void A_live_message_of_an_archived_channel_stays() =>
        Assert.Equal(ErrorCodes.ChannelArchived, RejectionOf(() => DeletingMessagesDecide(General([.. CarolPosted, new ChannelArchived(C, Bob)]), Carol)));

    [Fact]
    public void A_seq_that_is_no_message_is_not_found() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => DeleteMessageEndpoint.Decide(Workspace(), General(), 2, Alice)));

    private static MessageDeleted? DeletingMessagesDecide(Commands.Channels.ChannelState channel, string by) =>
        DeleteMessageEndpoint.Decide(Workspace(), channel, 4, by);
}

public class Reacting
{
    [Fact]
    public void A_member_adds_then_removes_a_reaction()
    {
        var channel = General(Post(Bob));
        Assert.Equal(new ReactionAdded(C, 3, "tada", Bob), ReactionsEndpoint.Decide(Workspace(), channel, 3, "tada", add: true, Bob));
        var reacted = General(Post(Bob), new ReactionAdded(C, 3, "tada", Bob));
        Assert.Equal(new ReactionRemoved(C, 3, "tada", Bob), ReactionsEndpoint.Decide(Workspace(), reacted, 3, "tada", add: false, Bob));
    }

    [Fact]
    public void Reacting_twice_or_removing_what_is_not_there_changes_nothing()
    {
        Assert.Null(ReactionsEndpoint.Decide(Workspace(), General(Post(Bob), new ReactionAdded(C, 3, "tada", Bob)), 3, "tada", add: true, Bob));
        Assert.Null(ReactionsEndpoint.Decide(Workspace(), General(Post(Bob), new ReactionAdded(C, 3, "tada", Bob)), 3, "heart", add: false, Bob));
    }

    [Fact]
    public void A_removed_reaction_can_be_added_again() =>
        Assert.NotNull(ReactionsEndpoint.Decide(Workspace(),
            General(Post(Bob), new ReactionAdded(C, 3, "tada", Bob), new ReactionRemoved(C, 3, "tada", Bob)), 3, "tada", add: true, Bob));

    [Fact]
    public void A_deleted_message_is_not_found() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() =>
            ReactionsEndpoint.Decide(Workspace(), General(Post(Bob), new MessageDeleted(C, 3, Bob)), 3, "tada", add: true, Bob)));

    [Fact]
    public void A_non_member_must_join_first() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() => ReactionsEndpoint.Decide(Workspace(), General(Post(Bob)), 3, "tada", add: true, Carol)));

    [Fact]
    public void An_archived_channel_takes_no_reactions() =>
        Assert.Equal(ErrorCodes.ChannelArchived, RejectionOf(() =>
            ReactionsEndpoint.Decide(Workspace(), General(Post(Bob), new ChannelArchived(C, Bob)), 3, "tada", add: true, Bob)));

    [Theory]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("")]
    public void A_bad_emoji_is_invalid(string emoji) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => MessageRules.ValidEmoji(emoji)));
}

public class MovingReadMarkers
{
    [Fact]
    public void A_member_marks_the_channel_read_up_to_a_seq_it_has() =>
        Assert.Equal(new ReadMarkerMoved(Bob, C, 3),
            MoveReadMarkerEndpoint.Decide(Workspace(), General(Post(Bob)), User(), new MoveReadMarker(3), Bob));

    [Fact]
    public void The_marker_never_moves_backwards() =>
        Assert.Null(MoveReadMarkerEndpoint.Decide(Workspace(), General(Post(Bob)), User(new ReadMarkerMoved(Bob, C, 3)), new MoveReadMarker(2), Bob));

    [Theory]
    [InlineData(0L)]
    [InlineData(4L)]
    [InlineData(null)]
    public void A_seq_outside_the_channel_is_invalid(long? seq) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() =>
            MoveReadMarkerEndpoint.Decide(Workspace(), General(Post(Bob)), User(), new MoveReadMarker(seq), Bob)));

    [Fact]
    public void A_non_member_must_join_first() =>
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() =>
            MoveReadMarkerEndpoint.Decide(Workspace(), General(Post(Bob)), User(), new MoveReadMarker(1), Carol)));

    [Fact]
    public void An_archived_channel_can_still_be_read() =>
        Assert.NotNull(MoveReadMarkerEndpoint.Decide(Workspace(), General(new ChannelArchived(C, Bob)), User(), new MoveReadMarker(3), Bob));
}
