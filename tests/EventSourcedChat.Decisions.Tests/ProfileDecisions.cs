using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Profiles;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
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

    [Fact]
    public void An_avatar_is_refused_until_the_file_store_exists() =>
        Assert.Equal(ErrorCodes.InvalidRequest, Invalid(() => UpdateProfileEndpoint.Decide(Bob(), Workspaces, new UpdateProfile(null, null, null, "f1"))));

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
