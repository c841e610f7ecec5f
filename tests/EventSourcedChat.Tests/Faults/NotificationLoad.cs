using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using EventSourcedChat.Tests.Infrastructure;
using MimeKit;
using Npgsql;

namespace EventSourcedChat.Tests.Faults;

/// <summary>What the fault did to the notification mail of people who are away (the second table of the suite).</summary>
public sealed record NotificationResult(
    int Mentions, int Expected, int Mails, int Lost, int SentTwice, int Copies, long FailedAttempts, TimeSpan? MailedBy, IReadOnlyList<string> Problems)
{
    public bool Passed => Lost == 0 && SentTwice == 0 && Problems.Count == 0;
}

/// <summary>
/// Mentions of people who are away, beside the fault suite's load: a mentioner posts, one message at a time and each
/// retried with its <c>clientMsgId</c> until a 2xx, a marked message naming three members of its channel who never
/// connect (so each is told by the notification worker's digest mail). After the load: every acknowledged mention must
/// be listed in exactly one mail to each of the three, read back from the cluster's own SMTP server. A copy of a mail
/// with the same <c>Message-ID</c> (the mail worker's one documented window: killed after the server accepted it, before
/// the mark) is counted apart; a message listed in two different mails is sent twice.
/// </summary>
public sealed class NotificationLoad
{
    private const int AwayCount = 3;

    /// <summary>One mention every so often: with the suite's 3 s digest delay, a digest lists a few, far below the 50 a mail lists.</summary>
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(400);

    private readonly TestUser _mentioner;
    private readonly IReadOnlyList<TestUser> _away;
    private readonly string _channel;
    private readonly string _runId;
    private readonly Stopwatch _clock;
    private readonly List<(string Marker, TimeSpan At)> _acks = [];
    private readonly Lock _gate = new();

    private NotificationLoad(TestUser mentioner, IReadOnlyList<TestUser> away, string channel, string runId, Stopwatch clock)
    {
        _mentioner = mentioner;
        _away = away;
        _channel = channel;
        _runId = runId;
        _clock = clock;
    }

    /// <summary>A mentioner and three people who stay away, members of a channel of their own in <paramref name="workspace"/>.</summary>
    public static async Task<NotificationLoad> SetUpAsync(
        Func<string, Task<TestUser>> register, TestUser admin, string workspace, string runId, Stopwatch clock)
    {
        var mentioner = await register("mentioner");
        var away = new List<TestUser>();
        for (var i = 0; i < AwayCount; i++)
        {
            away.Add(await register($"away{i}"));
        }
        foreach (var user in away.Prepend(mentioner))
        {
            await admin.Ok("POST", $"/v1/workspaces/{workspace}/members", new { userId = user.UserId });
        }
        var channel = (await mentioner.Ok("POST", $"/v1/workspaces/{workspace}/channels", new { name = $"mentions-{runId}" }, HttpStatusCode.Created))
            .GetProperty("channelId").GetString()!;
        foreach (var user in away)
        {
            await user.Ok("POST", $"/v1/channels/{channel}/join");
        }
        return new NotificationLoad(mentioner, away, channel, runId, clock);
    }

    public int Acknowledged
    {
        get
        {
            lock (_gate)
            {
                return _acks.Count;
            }
        }
    }

    /// <summary>Posts mentions until <paramref name="stop"/>; the one in flight then is retried until acknowledged or <paramref name="giveUp"/>.</summary>
    public async Task RunAsync(CancellationToken stop, CancellationToken giveUp)
    {
        var mentions = string.Join(" ", _away.Select(a => $"<@{a.UserId}>"));
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var marker = $"note-{_runId}-{n:0000}-end";
            if (!await PostUntilAcknowledgedAsync(marker, $"{marker} {mentions}", giveUp))
            {
                return;
            }
            lock (_gate)
            {
                _acks.Add((marker, _clock.Elapsed));
            }
            await Task.Delay(Pace, CancellationToken.None);
        }
    }

    private async Task<bool> PostUntilAcknowledgedAsync(string id, string text, CancellationToken giveUp)
    {
        while (!giveUp.IsCancellationRequested)
        {
            try
            {
                using var response = await _mentioner.Client.PostAsJsonAsync($"/v1/channels/{_channel}/messages", new { text, clientMsgId = id }, giveUp);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
            }
            try
            {
                await Task.Delay(100, giveUp);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>
    /// Waits (bounded) until every acknowledged mention is in a mail to each person away, then counts: not mailed (lost),
    /// listed in two different mails (sent twice), copies of one mail (same <c>Message-ID</c>). <c>MailedBy</c>: from the
    /// fault to the moment the last mention acknowledged until the fault was over had reached the mail folder.
    /// </summary>
    /// <c>FailedAttempts</c>: SMTP attempts of these people's mails that failed and were retried (the outbox's count).
    public async Task<NotificationResult> CheckAsync(NpgsqlDataSource db, string mailDir, DateTime faultAtUtc, TimeSpan over, TimeSpan bound)
    {
        List<(string Marker, TimeSpan At)> acks;
        lock (_gate)
        {
            acks = [.. _acks];
        }
        var problems = new List<string>();
        Dictionary<string, List<(DateTime At, MimeMessage Mail)>> mail = [];
        bool Complete() => _away.All(p => acks.All(a => mail[p.Email].Any(m => Text(m.Mail).Contains(a.Marker, StringComparison.Ordinal))));
        try
        {
            await Eventually.Until(() =>
            {
                mail = _away.ToDictionary(p => p.Email, p => MailTo(mailDir, p.Email), StringComparer.Ordinal);
                return Complete();
            }, bound, "every mention mailed to each person away");
        }
        catch (TimeoutException)
        {
            problems.Add($"not every mention was mailed within {bound.TotalSeconds} s");
        }

        int lost = 0, sentTwice = 0, copies = 0, mails = 0;
        DateTime? lastNeeded = null;
        var ackedBeforeOver = acks.Where(a => a.At <= over).Select(a => a.Marker).ToHashSet(StringComparer.Ordinal);
        foreach (var person in _away)
        {
            var byId = mail[person.Email].GroupBy(m => m.Mail.MessageId, StringComparer.Ordinal).ToList();
            mails += byId.Count;
            copies += byId.Sum(g => g.Count() - 1);
            foreach (var (marker, _) in acks)
            {
                var listing = byId.Where(g => Text(g.First().Mail).Contains(marker, StringComparison.Ordinal)).ToList();
                if (listing.Count == 0)
                {
                    lost++;
                    problems.Add($"{marker} was never mailed to {person.Email}");
                    continue;
                }
                if (listing.Count > 1)
                {
                    sentTwice += listing.Count - 1;
                    problems.Add($"{marker} was mailed to {person.Email} in {listing.Count} different mails");
                }
                var first = listing.Min(g => g.Min(m => m.At));
                if (ackedBeforeOver.Contains(marker) && (lastNeeded is null || first > lastNeeded))
                {
                    lastNeeded = first;
                }
            }
            var known = acks.Select(a => a.Marker).ToHashSet(StringComparer.Ordinal);
            foreach (var stray in byId.SelectMany(g => MarkersIn(Text(g.First().Mail))).Where(m => !known.Contains(m)).Distinct().Take(3))
            {
                problems.Add($"{stray} was mailed to {person.Email} but never acknowledged");
            }
        }
        var mailedBy = lastNeeded is { } t ? t - faultAtUtc : (TimeSpan?)null;
        await using var cmd = db.CreateCommand("select coalesce(sum(greatest(attempts - 1, 0)), 0) from ws_mail_outbox where recipient = any($1)");
        cmd.Parameters.AddWithValue(_away.Select(a => a.Email).ToArray());
        var failed = Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        return new NotificationResult(acks.Count, acks.Count * _away.Count, mails, lost, sentTwice, copies, failed, mailedBy, problems);
    }

    private static string Text(MimeMessage mail) => mail.TextBody ?? "";

    private IEnumerable<string> MarkersIn(string text)
    {
        var prefix = $"note-{_runId}-";
        for (var i = text.IndexOf(prefix, StringComparison.Ordinal); i >= 0; i = text.IndexOf(prefix, i + prefix.Length, StringComparison.Ordinal))
        {
            var end = text.IndexOf("-end", i + prefix.Length, StringComparison.Ordinal);
            if (end > 0)
            {
                yield return text[i..(end + 4)];
            }
        }
    }

    /// <summary>The mails to <paramref name="recipient"/> in <paramref name="folder"/>, with the time each file was written.</summary>
    private static List<(DateTime At, MimeMessage Mail)> MailTo(string folder, string recipient)
    {
        var found = new List<(DateTime At, MimeMessage Mail)>();
        if (!Directory.Exists(folder))
        {
            return found;
        }
        foreach (var file in Directory.EnumerateFiles(folder, "*.eml"))
        {
            if (!File.ReadAllText(file).Contains(recipient, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var message = MimeMessage.Load(file);
            if (message.To.Mailboxes.Any(m => string.Equals(m.Address, recipient, StringComparison.OrdinalIgnoreCase)))
            {
                found.Add((File.GetLastWriteTimeUtc(file), message));
            }
        }
        return found;
    }
}
