using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.Tests.WriteSide;

/// <summary>
/// Seeded random logs of one workspace: its stream, its users' streams and a few channels' streams, each event one that
/// a command could have appended (messages, edits, deletions, reactions and pins name messages that exist), with repeats
/// that commands would have turned away (joining twice, reacting or pinning twice, leaving when not in) so the folds' and the
/// tables' idempotence is exercised too. Every event type of Contracts/Events appears in a long enough log.
/// </summary>
public sealed class RandomLogs(int seed, int eventsPerChannel = 60)
{
    private readonly Random _random = new(seed);

    public string WorkspaceId { get; } = Id(seed, 0xAAAA);
    public List<string> Users { get; } = [.. Enumerable.Range(1, 6).Select(i => Id(seed, 0xB000 + i))];

    public static string Id(int seed, int n) => $"{seed:x8}{n:x24}";

    public List<object> Workspace()
    {
        List<object> log = [new WorkspaceCreated(WorkspaceId, "acme", Users[0])];
        foreach (var user in Users)
        {
            log.Add(new WorkspaceMemberAdded(WorkspaceId, user, Pick("admin", "member", "auditor"), Users[0]));
            if (_random.Next(3) == 0)
            {
                log.Add(new ChannelAuditRead(WorkspaceId, Id(seed, 0xC000), user, "events", 1, 5, null));
            }
            if (_random.Next(3) == 0)
            {
                log.Add(new WorkspaceMemberAdded(WorkspaceId, user, Pick("admin", "member", "auditor"), Users[0]));
            }
        }
        // Invites (no random draw, so the other logs of a seed stay as they were): a link used once and then revoked, an
        // email invite left pending, and a revoke repeated (a command would turn it away).
        var (link, mailed) = (Id(seed, 0xF001), Id(seed, 0xF002));
        var expiresAt = new DateTimeOffset(2026, 12, 13, 10, 30, seed, TimeSpan.Zero);
        log.Add(new InviteCreated(WorkspaceId, link, $"hash-{seed}-link", null, 2 + seed, expiresAt, Users[0]));
        log.Add(new InviteCreated(WorkspaceId, mailed, $"hash-{seed}-mailed", $"guest-{seed}@example.com", 1, expiresAt.AddDays(1), Users[0]));
        log.Add(new InviteAccepted(WorkspaceId, link, Users[^1]));
        log.Add(new InviteRevoked(WorkspaceId, link, Users[0]));
        log.Add(new InviteRevoked(WorkspaceId, link, Users[0]));
        // The last user is removed (their channel events stay in the channel logs: the folds agree whatever the rules),
        // the one before leaves and is added back. No random draw, so the other logs of a seed stay as they were.
        log.Add(new WorkspaceMemberRemoved(WorkspaceId, Users[^1], Users[0]));
        log.Add(new WorkspaceMemberRemoved(WorkspaceId, Users[^2], null));
        log.Add(new WorkspaceMemberAdded(WorkspaceId, Users[^2], "member", Users[0]));
        return log;
    }

    /// <summary>An avatar set from a file named by <paramref name="file"/>, with its sizes' object ids.</summary>
    private static UserAvatarSet AvatarOf(string userId, string file, IReadOnlyList<string> workspaces)
    {
        var fileId = userId[..28] + "00" + file; // file: two hex digits
        return new UserAvatarSet(userId, fileId, new string('c', 64), [.. Avatars.Sizes.Select(size => new AvatarImage(size, Avatars.ObjectIdOf(fileId, size)))], workspaces);
    }

    public List<object> User(string userId, IReadOnlyList<string> channelIds)
    {
        List<object> log = [new UserRegistered(userId, $"{userId}@example.com", "User " + userId[^2..], "hash")];
        var markers = new Dictionary<string, long>();
        for (var i = _random.Next(6); i > 0; i--)
        {
            var channel = Pick([.. channelIds]);
            var seq = markers.GetValueOrDefault(channel) + 1 + _random.Next(5);
            markers[channel] = seq;
            log.Add(new ReadMarkerMoved(userId, channel, seq));
        }
        // Profile changes and statuses, with a clear sometimes after none is set (a repeat a command would turn away).
        IReadOnlyList<string> workspaces = [WorkspaceId];
        if (userId == Users[0])
        {
            log.Add(new UserProfileUpdated(userId, "Ada Lovelace", "Analyst", "Europe/London", workspaces));
            log.Add(new UserStatusSet(userId, "palm_tree", "On holiday", new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero), workspaces));
            log.Add(new UserStatusCleared(userId, workspaces));
            log.Add(AvatarOf(userId, "a1", workspaces));
            log.Add(new UserAvatarRemoved(userId, workspaces));
            log.Add(AvatarOf(userId, "a2", workspaces));
        }
        for (var i = _random.Next(5); i > 0; i--)
        {
            log.Add(_random.Next(5) switch
            {
                3 => AvatarOf(userId, Pick("b1", "b2"), workspaces),
                4 => new UserAvatarRemoved(userId, workspaces),
                0 => new UserProfileUpdated(userId, Pick("Ada", "Bob", "Zoë"), Pick<string?>(null, "Dev", "Ops"), Pick<string?>(null, "Europe/Paris", "Asia/Tokyo"), workspaces),
                1 => new UserStatusSet(userId, Pick("palm_tree", "", "🤒"), Pick("away", "On holiday"),
                    Pick<DateTimeOffset?>(null, new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero)), workspaces),
                _ => new UserStatusCleared(userId, workspaces),
            });
        }
        // Password events: the first user always asks for a reset, the second always changes the password (so every
        // seed's logs hold both), the others at random; a reset asked for after a change stays pending.
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(_random.Next(100_000));
        for (var i = _random.Next(3); i >= 0; i--)
        {
            if (_random.Next(2) == 0 || (i == 0 && userId == Users[0]))
            {
                log.Add(new PasswordResetRequested(userId, $"reset-{userId[^4..]}-{i}", at, at.AddHours(1)));
            }
            if (_random.Next(2) == 0 || (i == 0 && userId == Users[1]))
            {
                log.Add(new PasswordChanged(userId, $"hash-{i}", _random.Next(2) == 0 ? "change" : "reset", null));
            }
            at = at.AddMinutes(5);
        }
        // Notification preferences (never the defaults), channel settings and thread follows: the first user always has
        // each, the others at random, with repeats a command would turn away.
        for (var i = userId == Users[0] ? 1 + _random.Next(2) : _random.Next(3); i > 0; i--)
        {
            var dnd = _random.Next(2) == 0;
            log.Add(new NotificationPreferencesSet(userId, _random.Next(2) == 0, 1 + _random.Next(60), dnd ? "22:00" : null, dnd ? "07:00" : null,
                dnd ? Pick("Europe/Paris", "Asia/Tokyo") : null, Pick<DateTimeOffset?>(null, new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero)),
                Pick("settings", "unsubscribe")));
            var channel = Pick([.. channelIds]);
            log.Add(new ChannelNotificationsSet(userId, channel, Pick("all", "mentions", "none"), _random.Next(2) == 0));
            var root = 1L + _random.Next(4);
            log.Add(new ThreadFollowed(userId, channel, root));
            if (_random.Next(2) == 0 || userId == Users[0])
            {
                log.Add(new ThreadUnfollowed(userId, channel, root));
            }
        }
        // The third user ends deactivated, the fourth deactivated and reactivated (no random draw).
        if (userId == Users[2] || userId == Users[3])
        {
            log.Add(new UserDeactivated(userId, Users[0]));
        }
        if (userId == Users[3])
        {
            log.Add(new UserReactivated(userId, Users[0]));
        }
        return log;
    }

    public List<object> Channel(int index) => Channel(index, eventsPerChannel);

    private List<object> Channel(int index, int events)
    {
        var id = Id(seed, 0xC000 + index);
        var kind = Pick("public", "private", "dm");
        var creator = Pick([.. Users]);
        IReadOnlyList<string> dmMembers = kind == "dm" ? [.. new[] { creator, Pick([.. Users]) }.Distinct().Order(StringComparer.Ordinal)] : [];
        List<object> log = [new ChannelCreated(id, WorkspaceId, kind == "dm" ? "" : $"ch-{index}", kind, null, creator, dmMembers)];
        // As OpenDm appends it: the created DM, then each member's join.
        log.AddRange(dmMembers.Select(m => new MemberJoined(id, m, m == creator ? null : creator)));
        var messages = new List<long>();
        for (var i = 0; i < events; i++)
        {
            var user = Pick([.. Users]);
            var seq = log.Count + 1; // the version the next event gets
            var message = messages.Count > 0 ? messages[_random.Next(messages.Count)] : (long?)null;
            var emoji = Pick("tada", "heart", "👍");
            var roll = _random.Next(18);
            if (kind == "dm" && roll is 0 or 2 or 3 or 4 or 5 or 6)
            {
                roll = 17; // a DM's members are fixed, and it is never renamed or archived: a post instead
            }
            object next = roll switch
            {
                0 => new ChannelRenamed(id, $"ch-{index}-{i}", user),
                1 => new ChannelTopicSet(id, _random.Next(2) == 0 ? null : $"topic {i}", user),
                2 => new ChannelArchived(id, user),
                3 => new ChannelUnarchived(id, user),
                4 or 5 => new MemberJoined(id, user, _random.Next(2) == 0 ? null : creator),
                6 => new MemberLeft(id, user, null),
                7 when message is { } m => new MessageEdited(id, m, $"edit {i}", Mentions.None, user),
                8 when message is { } m => new MessageDeleted(id, m, user),
                9 or 10 when message is { } m => new ReactionAdded(id, m, emoji, user),
                11 when message is { } m => new ReactionRemoved(id, m, emoji, user),
                12 => new LegalHoldPlaced(id, _random.Next(2) == 0 ? null : "case", user),
                13 => new LegalHoldLifted(id, user),
                14 or 15 when message is { } m => new MessagePinned(id, m, user),
                16 when message is { } m => new MessageUnpinned(id, m, user),
                _ => new MessagePosted(id, $"m{seq}", user, $"text {i}", message is { } root && _random.Next(3) == 0 ? root : null, Mentions.None),
            };
            if (next is MessagePosted)
            {
                messages.Add(seq);
            }
            log.Add(next);
        }
        return log;
    }

    /// <summary>
    /// A short random channel whose last event is a <paramref name="last"/> (a message first when it names one), so a
    /// read model that does not move on that event type differs from the fold at the end of the log.
    /// </summary>
    public List<object> ChannelEndingWith(int index, Type last)
    {
        var log = Channel(index, events: 8);
        var id = ((ChannelCreated)log[0]).ChannelId;
        var user = Users[1];
        if (!log.OfType<MessagePosted>().Any() || last == typeof(ReactionRemoved) || last == typeof(MessageUnpinned) || last == typeof(MessagePinned))
        {
            log.Add(new MessagePosted(id, "last", user, "last", null, Mentions.None));
            if (last == typeof(ReactionRemoved))
            {
                log.Add(new ReactionAdded(id, log.Count, "tada", user));
            }
            if (last == typeof(MessageUnpinned))
            {
                log.Add(new MessagePinned(id, log.Count, user));
            }
        }
        var message = log.Count - log.AsEnumerable().Reverse().TakeWhile(e => e is not MessagePosted).Count();
        log.Add(last.Name switch
        {
            nameof(ChannelCreated) => throw new InvalidOperationException("a channel is created once"),
            nameof(ChannelRenamed) => new ChannelRenamed(id, $"ch-{index}-last", user),
            nameof(ChannelTopicSet) => new ChannelTopicSet(id, "last topic", user),
            nameof(ChannelArchived) => new ChannelArchived(id, user),
            nameof(ChannelUnarchived) => new ChannelUnarchived(id, user),
            nameof(MemberJoined) => new MemberJoined(id, Users[5], null),
            nameof(MemberLeft) => new MemberLeft(id, user, null),
            nameof(MessagePosted) => new MessagePosted(id, "final", user, "final", null, Mentions.None),
            nameof(MessageEdited) => new MessageEdited(id, message, "edited last", Mentions.None, user),
            nameof(MessageDeleted) => new MessageDeleted(id, message, user),
            nameof(ReactionAdded) => new ReactionAdded(id, message, "heart", user),
            nameof(ReactionRemoved) => new ReactionRemoved(id, message, "tada", user),
            nameof(MessagePinned) => new MessagePinned(id, message, user),
            nameof(MessageUnpinned) => new MessageUnpinned(id, message, user),
            nameof(LegalHoldPlaced) => new LegalHoldPlaced(id, null, user),
            nameof(LegalHoldLifted) => new LegalHoldLifted(id, user),
            _ => throw new InvalidOperationException($"No last event of type {last.Name}: add it here."),
        });
        return log;
    }

    /// <summary>Splits a stream's log into appends of 1 to 5 events, as commands append them.</summary>
    public IEnumerable<List<object>> Appends(List<object> log)
    {
        for (var i = 0; i < log.Count;)
        {
            var n = Math.Min(1 + _random.Next(5), log.Count - i);
            yield return log.GetRange(i, n);
            i += n;
        }
    }

    private string Pick(params string[] options) => options[_random.Next(options.Length)];

    private T Pick<T>(params T[] options) => options[_random.Next(options.Length)];
}
