using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.Notifications;

/// <summary>
/// Who is mailed about what, against the real SMTP server: a mention or a DM to someone away reaches them in one digest
/// with the message, and the digest's unsubscribe link turns mail off; someone active, or who read it before the delay,
/// gets nothing; <c>@here</c> counts only who was active; replies reach a thread's followers until they unfollow.
/// </summary>
public sealed class NotificationMail(PostgresFixture db) : NotificationTest(db)
{
    [Fact]
    public async Task A_mention_and_a_DM_to_someone_away_come_in_one_digest_whose_unsubscribe_link_turns_mail_off()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var (ws, channel) = await TeamAsync(ada, bob);
        var dm = (await ada.Ok("POST", $"/v1/workspaces/{ws}/dms", new { userIds = new[] { bob.UserId } })).GetProperty("channelId").GetString()!;

        var mention = await PostAsync(ada, channel, $"<@{bob.UserId}> the deploy is at noon");
        var direct = await PostAsync(ada, dm, "can you check the release notes?");

        Assert.Equal([(channel, mention, "mention", "sent"), (dm, direct, "dm", "sent")],
            (await UntilSettledAsync(bob, 2)).OrderBy(i => i.Seq == direct).ToList());
        var mail = Assert.Single(await MailBox.WaitAsync(bob.Email));
        Assert.Contains("\"@bob the deploy is at noon\"", mail.TextBody, StringComparison.Ordinal); // the mention by name
        Assert.Contains("can you check the release notes?", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("ada mentioned you in #general", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("ada sent you a direct message", mail.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("Acme", mail.TextBody, StringComparison.Ordinal);
        Assert.Equal([($"notify-digest:{bob.UserId}:1", true)], await Eventually.Until(() => DigestsInOutboxAsync(bob), rows => rows.All(r => r.Sent)));
        Assert.Empty(await ItemsAsync(ada)); // never the author

        var link = MailBox.LinkIn(mail, UnsubscribePrefix);
        var followed = await Anonymous().GetAsync(new Uri(new Uri(link).PathAndQuery, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, followed.StatusCode);
        Assert.False((await followed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("email").GetBoolean());
        Assert.False((await bob.Ok("GET", "/v1/users/me/notifications")).GetProperty("email").GetBoolean());

        // Mail is off: the next mention decides nothing for bob.
        var later = await PostAsync(ada, channel, $"<@{bob.UserId}> one more thing");
        await UntilWorkerCaughtUpAsync();
        Assert.DoesNotContain(await ItemsAsync(bob), i => i.Seq == later);
        Assert.Single(MailBox.To(bob.Email));
        // A forged link is not one.
        await Problems.AssertAsync(await Anonymous().GetAsync(new Uri("/v1/notifications/unsubscribe?token=forged", UriKind.Relative)),
            HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Someone_active_gets_no_mail_nor_does_someone_who_read_it_before_the_delay()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var dave = await RegisterAsync("dave");
        var (_, channel) = await TeamAsync(ada, bob, carol, dave);
        await UntilDirectoryAsync();
        await ConnectAsync(bob); // bob is active while the digest is due

        var seq = await PostAsync(ada, channel, $"<@{bob.UserId}> <@{carol.UserId}> <@{dave.UserId}> standup moved to 10:30");
        await carol.Ok("POST", $"/v1/channels/{channel}/read", new { seq });

        Assert.Equal([(channel, seq, "mention", "seen")], await UntilSettledAsync(bob, 1));
        Assert.Equal([(channel, seq, "mention", "read")], await UntilSettledAsync(carol, 1));
        Assert.Equal([(channel, seq, "mention", "sent")], await UntilSettledAsync(dave, 1));
        Assert.Contains("standup moved to 10:30", Assert.Single(await MailBox.WaitAsync(dave.Email)).TextBody, StringComparison.Ordinal);
        Assert.Empty(MailBox.To(bob.Email));
        Assert.Empty(MailBox.To(carol.Email));
        Assert.Empty(await DigestsInOutboxAsync(bob));
        Assert.Empty(await DigestsInOutboxAsync(carol));
    }

    [Fact]
    public async Task At_here_notifies_only_the_members_active_when_it_was_posted_and_at_channel_everyone()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var (_, channel) = await TeamAsync(ada, bob, carol);
        await UntilDirectoryAsync();
        await ConnectAsync(bob);

        var here = await PostAsync(ada, channel, "@here who is around for a review?");
        await UntilWorkerCaughtUpAsync();
        var everyone = await PostAsync(ada, channel, "@channel the office is closed on Friday");

        Assert.Equal([(channel, here, "here", "seen"), (channel, everyone, "channel", "seen")], await UntilSettledAsync(bob, 2));
        Assert.Equal([(channel, everyone, "channel", "sent")], await UntilSettledAsync(carol, 1));
        var mail = Assert.Single(await MailBox.WaitAsync(carol.Email));
        Assert.Contains("the office is closed on Friday", mail.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("review", mail.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replies_reach_the_thread_s_author_and_repliers_and_whoever_follows_it_until_they_unfollow()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var carol = await RegisterAsync("carol");
        var dave = await RegisterAsync("dave");
        var (_, channel) = await TeamAsync(ada, bob, carol, dave);
        var root = await PostAsync(carol, channel, "shall we move the retro?");
        await dave.Ok("PUT", $"/v1/channels/{channel}/messages/{root}/follow");

        var first = await PostAsync(bob, channel, "fine by me", root);
        // The reply's seq names the same thread: carol unfollows it; bob, a replier, follows it now.
        await carol.Ok("DELETE", $"/v1/channels/{channel}/messages/{first}/follow");
        var second = await PostAsync(ada, channel, "Thursday then", root);

        Assert.Equal([(channel, first, "thread", "sent")], await UntilSettledAsync(carol, 1));
        Assert.Equal([(channel, second, "thread", "sent")], await UntilSettledAsync(bob, 1));
        Assert.Equal([(channel, first, "thread", "sent"), (channel, second, "thread", "sent")], await UntilSettledAsync(dave, 2));
        Assert.Contains("replied in a thread you follow in #general",
            string.Join("\n", (await MailBox.WaitAsync(carol.Email)).Select(m => m.TextBody)), StringComparison.Ordinal);
        Assert.Empty(await ItemsAsync(ada));
        await dave.Problem("PUT", $"/v1/channels/{channel}/messages/999/follow", null, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_muted_channel_or_level_none_mails_nothing_and_level_all_mails_every_post()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var (ws, general) = await TeamAsync(ada, bob);
        var channels = new Dictionary<string, string>();
        foreach (var (name, setting) in new (string, object)[]
                 { ("quiet", new { muted = true }), ("silent", new { level = "none" }), ("busy", new { level = "all" }) })
        {
            channels[name] = await ChannelAsync(ada, ws, name);
            await bob.Ok("POST", $"/v1/channels/{channels[name]}/join");
            await bob.Ok("PUT", $"/v1/channels/{channels[name]}/notifications", setting);
        }

        await PostAsync(ada, channels["quiet"], $"<@{bob.UserId}> said in quiet");
        await PostAsync(ada, channels["silent"], $"<@{bob.UserId}> said in silent");
        var busy = await PostAsync(ada, channels["busy"], "a plain post in busy");
        var mention = await PostAsync(ada, general, $"<@{bob.UserId}> said in general");

        Assert.Equal([(channels["busy"], busy, "message", "sent"), (general, mention, "mention", "sent")],
            (await UntilSettledAsync(bob, 2)).OrderBy(i => i.Channel == general).ToList());
        var received = string.Join("\n", (await MailBox.WaitAsync(bob.Email)).Select(m => m.TextBody));
        Assert.Contains("a plain post in busy", received, StringComparison.Ordinal);
        Assert.Contains("said in general", received, StringComparison.Ordinal);
        Assert.DoesNotContain("said in quiet", received, StringComparison.Ordinal);
        Assert.DoesNotContain("said in silent", received, StringComparison.Ordinal);
        await bob.Problem("PUT", $"/v1/channels/{general}/notifications", new { level = "loud" }, HttpStatusCode.BadRequest, "invalid_request");
        await bob.Problem("PATCH", "/v1/users/me/notifications", new { digestMinutes = -5 }, HttpStatusCode.BadRequest, "invalid_request");
    }
}
