using System.Net;
using System.Net.Http.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Api;

/// <summary>The mail outbox's delivery guarantees, against the real SMTP server (<see cref="MailBox"/>).</summary>
public sealed class MailDelivery(PostgresFixture db) : ApiTest(db)
{
    [Fact]
    public async Task Two_nodes_sending_the_outbox_at_once_deliver_every_mail_exactly_once()
    {
        // A second node with a mail worker of its own, polling often: both claim from the same outbox.
        await using var second = new ChatHost(Db, new() { ["Mail:PollMilliseconds"] = "20" });
        _ = second.Server;
        var users = new List<TestUser>();
        for (var i = 0; i < 12; i++)
        {
            users.Add(await RegisterAsync($"u{i}", i % 2 == 0 ? Host : second));
        }

        await Task.WhenAll(users.Select((u, i) => (i % 2 == 0 ? Anonymous() : second.CreateClient())
            .PostAsJsonAsync("/v1/auth/password-reset", new { email = u.Email })));

        foreach (var user in users)
        {
            Assert.Single(await MailBox.WaitAsync(user.Email));
        }
        var rows = await Eventually.Until(async () =>
        {
            await using var cmd = Db.DataSource.CreateCommand("select count(*), count(sent_at), coalesce(max(attempts), 0) from ws_mail_outbox");
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (Mails: reader.GetInt64(0), Sent: reader.GetInt64(1), MaxAttempts: reader.GetInt32(2));
        }, r => r.Sent == r.Mails, TimeSpan.FromSeconds(10), "every mail marked sent");
        Assert.Equal((12L, 12L, 1), rows);
        Assert.All(users, u => Assert.Single(MailBox.To(u.Email)));
    }
}
