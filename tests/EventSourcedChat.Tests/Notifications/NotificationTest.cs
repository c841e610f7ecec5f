using System.Net;
using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using EventSourcedChat.Tests.Realtime;

namespace EventSourcedChat.Tests.Notifications;

/// <summary>
/// Base of the notification tests: people in one workspace and channel, posts, and what the notification worker decided
/// (<c>nt_items</c>), read back from the database; mail read back from the real SMTP server (<see cref="MailBox"/>). The
/// suite's hosts mail a digest 3 s after a post (<see cref="ChatHost.SuiteNotifications"/>).
/// </summary>
public abstract class NotificationTest(PostgresFixture db) : RealtimeTest(db)
{
    public const string UnsubscribePrefix = "http://127.0.0.1:5080/v1/notifications/unsubscribe?token=";

    /// <summary>A workspace of <paramref name="people"/> (the first its admin) and a public channel they all joined.</summary>
    protected static async Task<(string Workspace, string Channel)> TeamAsync(params TestUser[] people)
    {
        var ws = await WorkspaceAsync(people[0], people[1..]);
        var channel = await ChannelAsync(people[0], ws);
        foreach (var p in people[1..])
        {
            await p.Ok("POST", $"/v1/channels/{channel}/join");
        }
        return (ws, channel);
    }

    protected static async Task<long> PostAsync(TestUser user, string channel, string text, long? threadRootSeq = null) =>
        (await user.Ok("POST", $"/v1/channels/{channel}/messages", new { text, threadRootSeq }, HttpStatusCode.Created))
            .GetProperty("seq").GetInt64();

    /// <summary>What the worker decided for <paramref name="user"/>: (channel, seq, reason, state), by channel and seq.</summary>
    protected async Task<List<(string Channel, long Seq, string Reason, string State)>> ItemsAsync(TestUser user)
    {
        await using var cmd = Db.DataSource.CreateCommand("select channel_id, seq, reason, state from nt_items where user_id = $1 order by channel_id, seq");
        cmd.Parameters.AddWithValue(user.UserId);
        await using var r = await cmd.ExecuteReaderAsync();
        var items = new List<(string, long, string, string)>();
        while (await r.ReadAsync())
        {
            items.Add((r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3)));
        }
        return items;
    }

    /// <summary>Waits until the worker has applied every event appended so far (bounded).</summary>
    protected async Task UntilWorkerCaughtUpAsync()
    {
        await using var cmd = Db.DataSource.CreateCommand("select coalesce(max(position), 0) from es_events");
        var head = (long)(await cmd.ExecuteScalarAsync())!;
        var progress = new CheckpointProgress(Db.DataSource);
        await Eventually.Until(() => progress.AllPassedAsync(head, ["notify"]), ok => ok, TimeSpan.FromSeconds(20),
            $"the notification worker to apply the log up to {head}");
    }

    /// <summary>Waits until <paramref name="user"/> has <paramref name="count"/> items and none is pending; answers them.</summary>
    protected Task<List<(string Channel, long Seq, string Reason, string State)>> UntilSettledAsync(TestUser user, int count) =>
        Eventually.Until(() => ItemsAsync(user), items => items.Count == count && items.All(i => i.State != "pending"),
            TimeSpan.FromSeconds(30), $"{count} settled notification item(s) for {user.Email}");

    /// <summary>The outbox's notification mails to <paramref name="user"/>: (cause, sent).</summary>
    protected async Task<List<(string Cause, bool Sent)>> DigestsInOutboxAsync(TestUser user)
    {
        await using var cmd = Db.DataSource.CreateCommand(
            "select cause, sent_at is not null from ws_mail_outbox where recipient = $1 and cause like 'notify-digest:%' order by cause");
        cmd.Parameters.AddWithValue(user.Email);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<(string, bool)>();
        while (await r.ReadAsync())
        {
            rows.Add((r.GetString(0), r.GetBoolean(1)));
        }
        return rows;
    }
}
