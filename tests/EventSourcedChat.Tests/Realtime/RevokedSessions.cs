using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Realtime;

/// <summary>
/// A hub connection opened with a token that is revoked afterwards is closed within seconds, as a deactivated user's
/// are: log-out closes its own session's connection, a password change every other session's, "log out everywhere"
/// every one; a connection of a session still valid goes on.
/// </summary>
public sealed class RevokedSessions(PostgresFixture db) : RealtimeTest(db)
{
    private const string Password = "correct horse battery";
    private const string NewPassword = "a brand new passphrase";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Log_out_a_password_change_and_log_out_everywhere_close_the_connections_of_the_revoked_sessions()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var general = await ChannelAsync(ada, ws, "general");
        await DirectoryAsync(general, [ada]);
        var phone = await SessionAsync(ada, Password);
        var laptop = await SessionAsync(ada, Password);
        var adaHub = await ConnectAsync(ada);
        var phoneHub = await ConnectAsync(phone);
        var laptopHub = await ConnectAsync(laptop);

        // Log-out: that session's connection closes, the others stay.
        var asked = Stopwatch.StartNew();
        await phone.Ok("POST", "/v1/auth/logout", expected: HttpStatusCode.NoContent);
        await phoneHub.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(asked.Elapsed < Within, $"closed {asked.Elapsed.TotalMilliseconds:F0} ms after the log-out");
        Assert.False(laptopHub.Closed.IsCompleted);

        // A password change: every other session's connection closes; the changing session's goes on.
        asked.Restart();
        await ada.Ok("POST", "/v1/auth/password", new { currentPassword = Password, newPassword = NewPassword });
        await laptopHub.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(asked.Elapsed < Within, $"closed {asked.Elapsed.TotalMilliseconds:F0} ms after the password change");
        await PostAsync(ada, general, "still here");
        await adaHub.WaitUntilAsync(e => Posted(e, general).Count == 1, what: "ada's post on her own connection");
        Assert.False(adaHub.Closed.IsCompleted);

        // Log out everywhere: every connection, the calling session's and a newer one's, and no reconnect.
        var tablet = await SessionAsync(ada, NewPassword);
        var tabletHub = await ConnectAsync(tablet);
        asked.Restart();
        await ada.Ok("POST", "/v1/auth/logout-everywhere", expected: HttpStatusCode.NoContent);
        await Task.WhenAll(adaHub.Closed, tabletHub.Closed).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(asked.Elapsed < Within, $"closed {asked.Elapsed.TotalMilliseconds:F0} ms after log out everywhere");
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => HubClient.ConnectAsync(Host, tablet));
        Assert.Contains("401", refused.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Another session of <paramref name="user"/> (a log-in on another device).</summary>
    private async Task<TestUser> SessionAsync(TestUser user, string password)
    {
        var client = Host.CreateClient();
        var login = await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        return user with { Client = client };
    }
}
