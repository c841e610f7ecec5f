using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Profiles;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

/// <summary>Given a user's events, when they change their profile or status, then the event (or nothing, or the code).</summary>
public class ProfileDecisions
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Workspaces = [W];

    private static UserState Bob(params object[] more) =>
        User([new UserRegistered(Given.Bob, "bob@example.com", "Bob", "hash"), .. more]);

    private static string Invalid(Action when) => RejectionOf(when);

    [Fact]
    public void A_profile_change_holds_the_whole_profile_after_it_and_the_workspaces_told()
    {
        var e = UpdateProfileEndpoint.Decide(Bob(), Workspaces, new UpdateProfile(null, "  Release manager ", "Europe/Paris"))!;
        Assert.Equal((Given.Bob, "Bob", "Release manager", "Europe/Paris"), (e.UserId, e.DisplayName, e.Title, e.TimeZone));
        Assert.Equal(Workspaces, e.WorkspaceIds);
    }

    [Fact]
    public void Fields_left_out_stay_and_empty_ones_clear()
    {
        var bob = Bob(new UserProfileUpdated(Given.Bob, "Bob", "Dev", "Asia/Tokyo", Workspaces));
        var renamed = UpdateProfileEndpoint.Decide(bob, Workspaces, new UpdateProfile("Robert", null, null))!;
        Assert.Equal(("Robert", "Dev", "Asia/Tokyo"), (renamed.DisplayName, renamed.Title, renamed.TimeZone));
        var cleared = UpdateProfileEndpoint.Decide(bob, Workspaces, new UpdateProfile(null, "", ""))!;
        Assert.Equal(("Bob", null, null), (cleared.DisplayName, cleared.Title, cleared.TimeZone));
    }

    [Fact]
    public void A_change_to_what_it_already_is_decides_nothing()
    {
        var bob = Bob(new UserProfileUpdated(Given.Bob, "Bob", "Dev", "Asia/Tokyo", Workspaces));
        Assert.Null(UpdateProfileEndpoint.Decide(bob, Workspaces, new UpdateProfile("Bob", "Dev", "Asia/Tokyo")));
        Assert.Null(UpdateProfileEndpoint.Decide(bob, Workspaces, new UpdateProfile(null, null, null)));
    }

    [Theory]
    [InlineData("", null, null)] // empty display name
    [InlineData("   ", null, null)]
    [InlineData(null, null, "Mars/Olympus_Mons")]
    [InlineData(null, null, "not a zone")]
    [InlineData(null, "tab\tinside", null)]
    public void Bad_fields_are_refused(string? displayName, string? title, string? timeZone) =>
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => UpdateProfileEndpoint.Decide(Bob(), Workspaces, new UpdateProfile(displayName, title, timeZone))));

    [Fact]
    public void Too_long_fields_are_refused()
    {
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => UpdateProfileEndpoint.Decide(Bob(), Workspaces, new UpdateProfile(new string('n', 81), null, null))));
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => UpdateProfileEndpoint.Decide(Bob(), Workspaces, new UpdateProfile(null, new string('t', 101), null))));
        Assert.NotNull(UpdateProfileEndpoint.Decide(Bob(), Workspaces, new UpdateProfile(new string('n', 80), new string('t', 100), null)));
    }

    // Was An_avatar_is_refused_until_the_file_store_exists: a file the endpoint made no avatar of is still refused.
    [Fact]
    public void An_avatar_file_that_the_endpoint_made_nothing_of_is_refused() =>
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => UpdateProfileEndpoint.Decide(Bob(), Workspaces, new UpdateProfile(null, null, null, "f1"))));

    private static AvatarFacts AvatarOf(string fileId) =>
        new(fileId, "ab12", [.. Avatars.Sizes.Select(size => new AvatarImage(size, Avatars.ObjectIdOf(fileId, size)))]);

    [Fact]
    public void An_avatar_is_set_with_the_object_ids_of_its_sizes_and_the_file_s_hash()
    {
        var avatar = AvatarOf("f1");
        var e = Assert.IsType<UserAvatarSet>(UpdateProfileEndpoint.DecideAvatar(Bob(), Workspaces, new UpdateProfile(null, null, null, "f1"), avatar));
        Assert.Equal((Given.Bob, "f1", "ab12"), (e.UserId, e.FileId, e.Sha256));
        Assert.Equal([32, 72, 192, 512], e.Images.Select(i => i.Size));
        Assert.Equal(Avatars.ObjectIdOf("f1", 512), e.Images[^1].ObjectId);
        Assert.Equal(Workspaces, e.WorkspaceIds);
        Assert.Equal("f1", UserState.Evolve(Bob(), e).Avatar!.FileId);
    }

    [Fact]
    public void The_same_avatar_again_decides_nothing_and_another_file_replaces_it()
    {
        var bob = Bob(new UserAvatarSet(Given.Bob, "f1", "ab12", AvatarOf("f1").Images, Workspaces));
        Assert.Null(UpdateProfileEndpoint.DecideAvatar(bob, Workspaces, new UpdateProfile(null, null, null, "f1"), AvatarOf("f1")));
        Assert.IsType<UserAvatarSet>(UpdateProfileEndpoint.DecideAvatar(bob, Workspaces, new UpdateProfile(null, null, null, "f2"), AvatarOf("f2")));
    }

    [Fact]
    public void An_empty_avatar_file_id_removes_the_avatar_and_with_none_decides_nothing()
    {
        var bob = Bob(new UserAvatarSet(Given.Bob, "f1", "ab12", AvatarOf("f1").Images, Workspaces));
        var removed = Assert.IsType<UserAvatarRemoved>(UpdateProfileEndpoint.DecideAvatar(bob, Workspaces, new UpdateProfile(null, null, null, ""), null));
        Assert.Null(UserState.Evolve(bob, removed).Avatar);
        Assert.Null(UpdateProfileEndpoint.DecideAvatar(Bob(), Workspaces, new UpdateProfile(null, null, null, ""), null));
        Assert.Null(UpdateProfileEndpoint.DecideAvatar(bob, Workspaces, new UpdateProfile("Bob", null, null), null));
    }

    [Fact]
    public void A_name_and_an_avatar_in_one_change_decide_both_events_profile_first()
    {
        var events = UpdateProfileEndpoint.DecideAll(Bob(), Workspaces, new UpdateProfile("Robert", null, null, "f1"), AvatarOf("f1"));
        Assert.Equal([typeof(UserProfileUpdated), typeof(UserAvatarSet)], events.Select(e => e.GetType()));
    }

    [Fact]
    public void An_avatar_made_of_another_file_than_the_one_named_is_refused() =>
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => UpdateProfileEndpoint.DecideAvatar(Bob(), Workspaces, new UpdateProfile(null, null, null, "f1"), AvatarOf("f2"))));

    [Fact]
    public void Only_the_caller_s_completed_image_may_become_an_avatar()
    {
        var image = new FileRow("f1", W, Given.Bob, "me.png", 100, "image/png", "ab12", Uploaded: true);
        Assert.Same(image, AvatarRules.Source(image, Given.Bob));
        foreach (var (file, why) in new (FileRow?, string)[]
        {
            (null, "unknown or swept"),
            (image with { UploaderId = Given.Alice }, "someone else's"),
            (image with { Uploaded = false, Sha256 = null }, "bytes not there yet"),
            (image with { ContentType = "image/svg+xml" }, "SVG"),
            (image with { ContentType = "application/pdf" }, "not an image"),
        })
        {
            Assert.True(Invalid(() => AvatarRules.Source(file, Given.Bob)) == ErrorCodes.InvalidRequest, why);
        }
    }

    [Fact]
    public void Someone_who_does_not_exist_is_not_found() =>
        Assert.Equal(ErrorCodes.NotFound, Invalid(() => UpdateProfileEndpoint.Decide(UserState.Initial, Workspaces, new UpdateProfile("X", null, null))));

    [Fact]
    public void A_status_is_set_with_its_expiry_in_utc()
    {
        var at = new DateTimeOffset(2026, 12, 6, 18, 0, 0, TimeSpan.FromHours(2));
        var e = SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus("palm_tree", "On holiday", at), Now)!;
        Assert.Equal(("palm_tree", "On holiday", at, TimeSpan.Zero), (e.Emoji, e.Text, e.ExpiresAt, e.ExpiresAt!.Value.Offset));
        Assert.Equal(Workspaces, e.WorkspaceIds);
    }

    [Fact]
    public void A_status_needs_an_emoji_or_a_text()
    {
        Assert.NotNull(SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus(null, "In a meeting", null), Now));
        Assert.NotNull(SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus("🌴", null, null), Now));
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus("", " ", null), Now)));
    }

    [Fact]
    public void A_status_expiring_in_the_past_or_too_far_or_too_long_is_refused()
    {
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus("x", "t", Now), Now)));
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus("x", "t", Now.AddMinutes(-1)), Now)));
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus("x", "t", Now.AddDays(400)), Now)));
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus("x", new string('t', 101), null), Now)));
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => SetStatusEndpoint.Decide(Bob(), Workspaces, new SetStatus("has space", "t", null), Now)));
    }

    [Fact]
    public void Setting_the_status_that_shows_decides_nothing_but_an_expired_one_is_set_again()
    {
        var status = new UserStatusSet(Given.Bob, "palm_tree", "On holiday", Now.AddHours(1), Workspaces);
        Assert.Null(SetStatusEndpoint.Decide(Bob(status), Workspaces, new SetStatus("palm_tree", "On holiday", Now.AddHours(1)), Now));
        var later = Now.AddHours(2); // the status expired an hour ago
        Assert.NotNull(SetStatusEndpoint.Decide(Bob(status), Workspaces, new SetStatus("palm_tree", "On holiday", later.AddHours(1)), later));
    }

    [Fact]
    public void A_status_reads_as_none_once_expired_without_any_event()
    {
        var bob = Bob(new UserStatusSet(Given.Bob, "palm_tree", "On holiday", Now.AddHours(1), Workspaces));
        Assert.NotNull(bob.StatusAt(Now));
        Assert.Null(bob.StatusAt(Now.AddHours(1)));
        Assert.Null(SetStatusEndpoint.DecideClear(bob, Workspaces, Now.AddHours(1))); // nothing to clear
    }

    [Fact]
    public void Clearing_a_status_that_shows_clears_it_and_clearing_none_decides_nothing()
    {
        var bob = Bob(new UserStatusSet(Given.Bob, "palm_tree", "On holiday", null, Workspaces));
        Assert.Equal(Given.Bob, SetStatusEndpoint.DecideClear(bob, Workspaces, Now)!.UserId);
        Assert.Null(SetStatusEndpoint.DecideClear(Bob(), Workspaces, Now));
        Assert.Null(UserState.Evolve(bob, new UserStatusCleared(Given.Bob, Workspaces)).StatusAt(Now));
    }
}
