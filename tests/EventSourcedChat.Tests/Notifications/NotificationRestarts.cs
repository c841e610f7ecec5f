using System.Net;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Notifications;

/// <summary>
/// Never the same message twice: the worker restarted mid-way (<c>POST /v1/admin/projections/notify/restart</c>, a new
/// run from its checkpoint) while posts arrive, with a second node whose worker stands by for the lease, mails each
/// message to each person exactly once, one outbox row per mail, and a restart after that sends nothing again.
/// </summary>
public sealed class NotificationRestarts(PostgresFixture db) : NotificationTest(db)
{
    private static int Occurrences(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            n++;
        }
        return n;
    }

    [Fact]
    public async Task A_worker_restarted_mid_way_beside_a_second_node_mails_each_message_once_and_nothing_again_after()
    {
        var ada = await RegisterAsync("ada");
        TestUser[] away = [await RegisterAsync("bob"), await RegisterAsync("carol"), await RegisterAsync("dave")];
        var (_, channel) = await TeamAsync([ada, .. away]);
        var admin = ada.On(ExtraHost("all", new() { ["Admins"] = ada.UserId }));
        var mentions = string.Join(" ", away.Select(p => $"<@{p.UserId}>"));

        var markers = new List<string>();
        for (var i = 0; i < 24; i++)
        {
            var marker = $"item-{i:00}-end";
            await PostAsync(ada, channel, $"{marker} {mentions}");
            markers.Add(marker);
            if (i % 8 == 3)
            {
                await admin.Ok("POST", "/v1/admin/projections/notify/restart", null, HttpStatusCode.Accepted);
            }
        }

        foreach (var person in away)
        {
            Assert.All(await UntilSettledAsync(person, markers.Count), i => Assert.Equal("sent", i.State));
            var (mails, outbox) = await Eventually.Until(async () => (Mails: MailBox.To(person.Email), Outbox: await DigestsInOutboxAsync(person)),
                m => m.Outbox.Count > 0 && m.Outbox.All(o => o.Sent) && m.Mails.Count == m.Outbox.Count, TimeSpan.FromSeconds(30),
                $"{person.Email}'s digests sent and received");
            var received = string.Join("\n", mails.Select(m => m.TextBody));
            Assert.All(markers, marker => Assert.Equal(1, Occurrences(received, marker)));
            Assert.Equal(outbox.Count, outbox.Select(o => o.Cause).Distinct().Count());
        }

        // Restarted once more after everything went: the next mention is the only thing mailed again.
        var before = MailBox.To(away[0].Email).Count;
        await admin.Ok("POST", "/v1/admin/projections/notify/restart", null, HttpStatusCode.Accepted);
        await PostAsync(ada, channel, $"after-restart <@{away[0].UserId}>");
        var after = await MailBox.WaitAsync(away[0].Email, before + 1);
        Assert.Equal(before + 1, after.Count);
        Assert.DoesNotContain("item-", after[^1].TextBody, StringComparison.Ordinal);
        Assert.Contains("after-restart", after[^1].TextBody, StringComparison.Ordinal);
    }
}
