using EventSourcedChat.Commands;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class Passwords
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static UserState Ada(params object[] more) =>
        Fold.Replay(UserState.Initial, [new UserRegistered(Alice, "ada@example.test", "Ada", "hash:old password"), .. more], UserState.Evolve);

    private static string Hash(string password) => "hash:" + password;

    private static bool IsCurrent(UserState user, string password) => user.PasswordHash == Hash(password);

    private static PasswordChanged Change(UserState user, string current, string next) =>
        ChangePasswordEndpoint.Decide(user, new ChangePassword(current, next), p => IsCurrent(user, p), Hash, "session-1");

    [Fact]
    public void A_user_changes_the_password_with_the_current_one_keeping_the_session_that_asked() =>
        Assert.Equal(new PasswordChanged(Alice, "hash:a new passphrase", "change", "session-1"), Change(Ada(), "old password", "a new passphrase"));

    [Fact]
    public void A_wrong_current_password_is_wrong_password_and_a_weak_new_one_invalid_request()
    {
        Assert.Equal(ErrorCodes.WrongPassword, Assert.Throws<CommandRejected>(() => Change(Ada(), "guess", "a new passphrase")).Code);
        Assert.Equal(403, Assert.Throws<CommandRejected>(() => Change(Ada(), "", "a new passphrase")).Status);
        Assert.Equal(ErrorCodes.InvalidRequest, Assert.Throws<CommandRejected>(() => Change(Ada(), "old password", "short")).Code);
        Assert.Equal(ErrorCodes.InvalidRequest, Assert.Throws<CommandRejected>(() => Change(Ada(), "old password", "ada@example.test")).Code);
    }

    [Fact]
    public void A_reset_is_requested_once_a_minute_at_most()
    {
        var requested = Assert.IsType<PasswordResetRequested>(Assert.Single(PasswordResetEndpoint.Decide(Ada(), "h1", Now, Hour)));
        Assert.Equal(new PasswordResetRequested(Alice, "h1", Now, Now + Hour), requested);
        Assert.Empty(PasswordResetEndpoint.Decide(Ada(requested), "h2", Now.AddSeconds(59), Hour));
        Assert.Single(PasswordResetEndpoint.Decide(Ada(requested), "h2", Now.AddSeconds(60), Hour));
        Assert.Empty(PasswordResetEndpoint.Decide(UserState.Initial, "h1", Now, Hour));
    }

    [Fact]
    public void A_reset_link_sets_a_new_password_once_and_revokes_every_session()
    {
        var (token, hash) = PasswordResetEndpoint.NewToken(Alice);
        var secret = token[(Alice.Length + 1)..];
        var user = Ada(new PasswordResetRequested(Alice, hash, Now, Now + Hour));

        var changed = ConfirmPasswordResetEndpoint.Decide(user, secret, "a new passphrase", Now.AddMinutes(59), Hash);

        Assert.Equal(new PasswordChanged(Alice, "hash:a new passphrase", "reset", null), changed);
        var used = UserState.Evolve(user, changed);
        Assert.Null(used.Reset);
        Assert.Equal(ErrorCodes.ResetExpired,
            Assert.Throws<CommandRejected>(() => ConfirmPasswordResetEndpoint.Decide(used, secret, "another passphrase", Now.AddMinutes(59), Hash)).Code);
    }

    [Fact]
    public void An_expired_replaced_or_wrong_link_is_reset_expired()
    {
        var (first, firstHash) = PasswordResetEndpoint.NewToken(Alice);
        var (_, secondHash) = PasswordResetEndpoint.NewToken(Alice);
        var secret = first[(Alice.Length + 1)..];
        var requested = new PasswordResetRequested(Alice, firstHash, Now, Now + Hour);
        string Code(UserState user, string? s, DateTimeOffset at) =>
            Assert.Throws<CommandRejected>(() => ConfirmPasswordResetEndpoint.Decide(user, s, "a new passphrase", at, Hash)).Code;

        Assert.Equal(ErrorCodes.ResetExpired, Code(Ada(requested), secret, Now + Hour));
        Assert.Equal(ErrorCodes.ResetExpired, Code(Ada(requested, requested with { TokenHash = secondHash }), secret, Now));
        Assert.Equal(ErrorCodes.ResetExpired, Code(Ada(requested), secret + "x", Now));
        Assert.Equal(ErrorCodes.ResetExpired, Code(Ada(), secret, Now));
        Assert.Equal(ErrorCodes.ResetExpired, Code(Ada(requested, new PasswordChanged(Alice, "hash:x", "change", null)), secret, Now));
        Assert.Equal(ErrorCodes.InvalidRequest,
            Assert.Throws<CommandRejected>(() => ConfirmPasswordResetEndpoint.Decide(Ada(requested), secret, "short", Now, Hash)).Code);
    }
}
