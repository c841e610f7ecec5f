using System.Reflection;
using EventSourcedChat.Commands;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Decisions.Tests;

/// <summary>
/// Every event type of Contracts/Events (every record with a stored type name) is handled by the fold of its stream
/// kind, which its first field names (<c>ChannelId</c>, <c>UserId</c>, <c>WorkspaceId</c>), and changes that state,
/// unless it is listed in <see cref="NotChangingState"/> (and then it must not).
/// </summary>
public class FoldExhaustiveness
{
    /// <summary>Events that move only the stream's version: what they carry is for the read side or the record.</summary>
    public static readonly Type[] NotChangingState = [typeof(MessageEdited), typeof(ChannelAuditRead)];

    // States an event of each kind can visibly change: x is the user, 2 the message seq in every sample event.
    private static readonly ChannelState[] ChannelBases =
    [
        Fold.Replay(ChannelState.Initial,
            [new ChannelCreated("c", "w", "general", "public", "topic", "y", []), new MessagePosted("c", "m", "y", "hi", null, Mentions.None)],
            ChannelState.Evolve),
        Fold.Replay(ChannelState.Initial,
            [new ChannelCreated("c", "w", "general", "public", "topic", "y", []), new MessagePosted("c", "m", "y", "hi", null, Mentions.None),
             new MemberJoined("c", "x", null), new ReactionAdded("c", 2, "x", "x"), new ChannelArchived("c", "y"), new LegalHoldPlaced("c", null, "y"),
             new MessagePinned("c", 2, "y")],
            ChannelState.Evolve),
    ];

    private static readonly WorkspaceState[] WorkspaceBases =
    [
        Fold.Replay(WorkspaceState.Initial, [new WorkspaceCreated("w", "acme", "y")], WorkspaceState.Evolve),
        Fold.Replay(WorkspaceState.Initial,
            [new WorkspaceCreated("w", "acme", "y"), new InviteCreated("w", "x", "h", null, 5, DateTimeOffset.UnixEpoch, "y")], WorkspaceState.Evolve),
        Fold.Replay(WorkspaceState.Initial, [new WorkspaceCreated("w", "acme", "y"), new WorkspaceMemberAdded("w", "x", "member", "y")], WorkspaceState.Evolve),
    ];

    private static readonly UserState[] UserBases =
    [
        Fold.Replay(UserState.Initial, [new UserRegistered("u", "e", "n", "h")], UserState.Evolve),
        Fold.Replay(UserState.Initial, [new UserRegistered("u", "e", "n", "h"), new UserStatusSet("u", "palm_tree", "away", null, [])], UserState.Evolve),
        Fold.Replay(UserState.Initial, [new UserRegistered("u", "e", "n", "h"), new UserDeactivated("u", "y")], UserState.Evolve),
        Fold.Replay(UserState.Initial, [new UserRegistered("u", "e", "n", "h"), new UserAvatarSet("u", "f", "h", [new AvatarImage(32, "o")], [])], UserState.Evolve),
    ];

    private sealed record Kind(Func<object, IEnumerable<string>> DescribeAfter, Func<object, string> Throwing);

    private static readonly Dictionary<string, Kind> Kinds = new()
    {
        ["ChannelId"] = new(e => ChannelBases.Select(b => Describe(ChannelState.Evolve(b, e)) + " vs " + Describe(b with { Version = b.Version + 1 })),
            e => Describe(ChannelState.Evolve(ChannelState.Initial, e))),
        ["WorkspaceId"] = new(e => WorkspaceBases.Select(b => Describe(WorkspaceState.Evolve(b, e)) + " vs " + Describe(b with { Version = b.Version + 1 })),
            e => Describe(WorkspaceState.Evolve(WorkspaceState.Initial, e))),
        ["UserId"] = new(e => UserBases.Select(b => Describe(UserState.Evolve(b, e)) + " vs " + Describe(b with { Version = b.Version + 1 })),
            e => Describe(UserState.Evolve(UserState.Initial, e))),
    };

    public static TheoryData<string> EventTypeNames() => [.. EventTypes.All.Select(t => t.Name).Order(StringComparer.Ordinal)];

    [Fact]
    public void Every_event_type_is_known_to_the_test() => Assert.True(EventTypes.All.Count() >= 21);

    [Theory]
    [MemberData(nameof(EventTypeNames))]
    public void Every_event_is_handled_by_the_fold_of_its_stream_kind(string typeName)
    {
        var type = EventTypes.All.Single(t => t.Name == typeName);
        var stream = type.GetConstructors().Single().GetParameters()[0].Name!;
        var kind = Assert.Contains(char.ToUpperInvariant(stream[0]) + stream[1..], Kinds);
        var sample = Sample(type);
        var unknown = Record.Exception(() => kind.Throwing(sample));
        Assert.False(unknown is UnknownEventException, $"{typeName}: {unknown?.Message}");
        var changes = kind.DescribeAfter(sample).Any(pair => pair.Split(" vs ") is [var after, var unchanged] && after != unchanged);
        if (NotChangingState.Contains(type))
        {
            Assert.False(changes, $"{typeName} is listed as not changing state, but the fold changes it.");
        }
        else
        {
            Assert.True(changes, $"{typeName} changes nothing in its fold: handle it, or list it in NotChangingState.");
        }
    }

    /// <summary>An instance with every field set: strings "x", numbers 2, no mentions, empty lists.</summary>
    private static object Sample(Type type)
    {
        var ctor = type.GetConstructors().Single();
        return ctor.Invoke([.. ctor.GetParameters().Select(p => SampleOf(p.ParameterType))]);
    }

    private static object? SampleOf(Type t) =>
        t == typeof(string) ? "x"
        : t == typeof(long) || t == typeof(long?) ? 2L
        : t == typeof(int) ? 2
        : t == typeof(bool) ? true
        : t == typeof(Mentions) ? Mentions.None
        : t == typeof(DateTimeOffset?) ? null
        : t == typeof(DateTimeOffset) ? DateTimeOffset.UnixEpoch
        : t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? Array.CreateInstance(t.GetGenericArguments()[0], 0)
        : throw new InvalidOperationException($"No sample value for {t.Name}: add one here.");

    private static string Describe(ChannelState s) =>
        $"{s.ChannelId}|{s.WorkspaceId}|{s.Name}|{s.Kind}|{s.Topic}|{s.CreatedBy}|{s.Archived}|{s.Held}|{s.Version}|pins={s.PinCount}|" +
        string.Join(',', s.Members.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}@{m.Value}")) + "|" +
        string.Join(',', s.Messages.OrderBy(m => m.Key).Select(m =>
            $"{m.Key}:{m.Value.AuthorId}:{m.Value.ThreadRootSeq}:{m.Value.Deleted}:{m.Value.Pinned}:" +
            string.Join(';', m.Value.Reactions.Select(r => r.Emoji + "/" + r.UserId).Order(StringComparer.Ordinal))));

    private static string Describe(WorkspaceState s) =>
        $"{s.WorkspaceId}|{s.Name}|{s.CreatedBy}|{s.Version}|" +
        string.Join(',', s.Roles.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value}")) + "|" +
        string.Join(',', s.Invites.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => i.Value.ToString()));

    private static string Describe(UserState s) =>
        $"{s.UserId}|{s.Email}|{s.DisplayName}|{s.Version}|{s.Title}|{s.TimeZone}|{s.Status}|{s.PasswordHash}|{s.Reset}|deactivated={s.Deactivated}|avatar={s.Avatar?.FileId}/{string.Join(',', (s.Avatar?.Images ?? Array.Empty<AvatarImage>()).Select(i => $"{i.Size}:{i.ObjectId}"))}|" +
        string.Join(',', s.ReadMarkers.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value}")) + "|" +
        $"{s.Notifications}|" +
        string.Join(',', s.ChannelNotifications.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}")) + "|" +
        string.Join(',', s.FollowedThreads.OrderBy(f => f.Key.ChannelId, StringComparer.Ordinal).ThenBy(f => f.Key.RootSeq)
            .Select(f => $"{f.Key.ChannelId}:{f.Key.RootSeq}={f.Value}"));
}
