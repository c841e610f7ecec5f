using System.Text.Json;
using EventSourcedChat.Commands.Notifications;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class NotificationPreferenceDecisions
{
    private static readonly UserRegistered BobRegistered = new(Bob, "bob@example.test", "bob", "hash");

    private static NotificationPatch Patch(string json) => NotificationPreferencesEndpoint.Parse(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Turning_mail_off_records_the_whole_preferences_and_again_decides_nothing()
    {
        var off = NotificationPreferencesEndpoint.Decide(User(BobRegistered), Patch("""{"email": false}"""));

        Assert.Equal(new NotificationPreferencesSet(Bob, false, 0, null, null, null, null, "settings"), off);
        Assert.Null(NotificationPreferencesEndpoint.Decide(User(BobRegistered, off!), Patch("""{"email": false}""")));
    }

    [Fact]
    public void A_field_left_out_stays_and_null_clears_the_window_or_the_snooze()
    {
        var until = new DateTimeOffset(2030, 1, 1, 8, 0, 0, TimeSpan.Zero);
        var set = NotificationPreferencesEndpoint.Decide(User(BobRegistered),
            Patch("""{"digestMinutes": 30, "dnd": {"from": "22:00", "to": "07:30", "timeZone": "Europe/Paris"}, "snoozeUntil": "2030-01-01T09:00:00+01:00"}"""));
        Assert.Equal(new NotificationPreferencesSet(Bob, true, 30, "22:00", "07:30", "Europe/Paris", until, "settings"), set);

        var cleared = NotificationPreferencesEndpoint.Decide(User(BobRegistered, set!), Patch("""{"dnd": null, "snoozeUntil": null}"""));

        Assert.Equal(new NotificationPreferencesSet(Bob, true, 30, null, null, null, null, "settings"), cleared);
    }

    [Theory]
    [InlineData("""{"digestMinutes": -1}""")]
    [InlineData("""{"digestMinutes": 1441}""")]
    [InlineData("""{"dnd": {"from": "25:00", "to": "07:00", "timeZone": "Europe/Paris"}}""")]
    [InlineData("""{"dnd": {"from": "22:00", "to": "07:00", "timeZone": "Mars/Olympus"}}""")]
    public void Out_of_range_values_are_invalid(string json) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => NotificationPreferencesEndpoint.Decide(User(BobRegistered), Patch(json))));

    [Theory]
    [InlineData("""{"email": "no"}""")]
    [InlineData("""{"colour": "blue"}""")]
    [InlineData("""{"dnd": {"from": "22:00"}}""")]
    [InlineData("""[]""")]
    public void Unknown_fields_and_wrong_types_are_invalid(string json) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Patch(json)));

    [Fact]
    public void Someone_who_does_not_exist_has_no_preferences() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => NotificationPreferencesEndpoint.Decide(User(), Patch("""{"email": false}"""))));
}

public class ChannelNotificationDecisions
{
    private static readonly Commands.Accounts.UserState Carol_ = User(new UserRegistered(Carol, "c@example.test", "carol", "h"));

    [Fact]
    public void A_member_of_the_workspace_mutes_a_public_channel_and_the_same_again_decides_nothing()
    {
        var set = ChannelNotificationsEndpoint.Decide(Workspace(), General(), Carol_, new SetChannelNotifications(null, true));

        Assert.Equal(new ChannelNotificationsSet(Carol, C, "mentions", true), set);
        Assert.Null(ChannelNotificationsEndpoint.Decide(Workspace(), General(), User(new UserRegistered(Carol, "c", "carol", "h"), set!),
            new SetChannelNotifications("mentions", true)));
    }

    [Fact]
    public void A_level_that_is_not_one_is_invalid_and_a_private_channel_of_others_is_not_found()
    {
        Assert.Equal(ErrorCodes.InvalidRequest,
            RejectionOf(() => ChannelNotificationsEndpoint.Decide(Workspace(), General(), Carol_, new SetChannelNotifications("loud", null))));
        Assert.Equal(ErrorCodes.NotFound,
            RejectionOf(() => ChannelNotificationsEndpoint.Decide(Workspace(), Channel(GeneralEvents("private")), Carol_,
                new SetChannelNotifications("all", null))));
    }
}

public class ThreadFollowDecisions
{
    private static readonly Commands.Accounts.UserState Bob_ = User(new UserRegistered(Bob, "b@example.test", "bob", "h"));

    [Fact]
    public void Following_a_reply_follows_its_root_and_following_again_decides_nothing()
    {
        var channel = General(Post(Bob), Post(Bob, "reply", 3));

        var followed = FollowThreadEndpoint.Decide(Workspace(), channel, Bob_, 4, follow: true);

        Assert.Equal(new ThreadFollowed(Bob, C, 3), followed);
        Assert.Null(FollowThreadEndpoint.Decide(Workspace(), channel, User(new UserRegistered(Bob, "b", "bob", "h"), followed!), 3, follow: true));
        Assert.Equal(new ThreadUnfollowed(Bob, C, 3), FollowThreadEndpoint.Decide(Workspace(), channel, Bob_, 3, follow: false));
    }

    [Fact]
    public void A_message_that_is_not_there_is_not_found_and_a_non_member_is_refused()
    {
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => FollowThreadEndpoint.Decide(Workspace(), General(Post(Bob)), Bob_, 9, follow: true)));
        var carol = User(new UserRegistered(Carol, "c", "carol", "h"));
        Assert.Equal(ErrorCodes.NotInChannel, RejectionOf(() => FollowThreadEndpoint.Decide(Workspace(), General(Post(Bob)), carol, 3, follow: true)));
    }
}

public class DigestHolds
{
    private static readonly DateTimeOffset Noon = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_snooze_holds_the_digest_until_it_ends() =>
        Assert.Equal(Noon.AddHours(1), DigestSender.HeldUntil(Noon, null, null, null, Noon.AddHours(1)));

    [Fact]
    public void A_window_spanning_midnight_holds_until_its_local_end_and_outside_it_nothing_waits()
    {
        // 12:00 UTC is 21:00 in Tokyo: inside 20:00-07:00, which ends at 07:00 Tokyo the next day (22:00 UTC).
        Assert.Equal(new DateTimeOffset(2030, 6, 1, 22, 0, 0, TimeSpan.Zero),
            DigestSender.HeldUntil(Noon, "20:00", "07:00", "Asia/Tokyo", null)!.Value.ToUniversalTime());
        Assert.Null(DigestSender.HeldUntil(Noon, "22:00", "07:00", "Asia/Tokyo", null));
        Assert.Null(DigestSender.HeldUntil(Noon, null, null, null, Noon.AddHours(-1)));
    }
}
