using EventSourcedChat.Commands;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Decisions.Tests;

/// <summary>
/// The people and streams of the decision tests, and the states their events fold to: a workspace where Alice is the
/// admin, Bob and Carol members and Erin an auditor; #general, a public channel Bob created; Dave is in no workspace.
/// </summary>
public static class Given
{
    public const string W = "0000000000000000000000000000aaaa";
    public const string C = "0000000000000000000000000000cccc";
    public const string Alice = "000000000000000000000000000000a1";
    public const string Bob = "000000000000000000000000000000b2";
    public const string Carol = "000000000000000000000000000000c3";
    public const string Dave = "000000000000000000000000000000d4";
    public const string Erin = "000000000000000000000000000000e5";

    public static readonly object[] WorkspaceEvents =
    [
        new WorkspaceCreated(W, "acme", Alice),
        new WorkspaceMemberAdded(W, Alice, "admin", Alice),
        new WorkspaceMemberAdded(W, Bob, "member", Alice),
        new WorkspaceMemberAdded(W, Carol, "member", Alice),
        new WorkspaceMemberAdded(W, Erin, "auditor", Alice),
    ];

    /// <summary>#general: created by Bob, who joined; seq 2 is his membership.</summary>
    public static object[] GeneralEvents(string kind = "public") =>
        [new ChannelCreated(C, W, "general", kind, null, Bob, []), new MemberJoined(C, Bob, null)];

    public static WorkspaceState Workspace(params object[] more) =>
        Fold.Replay(WorkspaceState.Initial, [.. WorkspaceEvents, .. more], WorkspaceState.Evolve);

    public static ChannelState Channel(params object[] events) => Fold.Replay(ChannelState.Initial, events, ChannelState.Evolve);

    /// <summary>#general with more events after its creation (a message posted third has seq 3).</summary>
    public static ChannelState General(params object[] more) => Channel([.. GeneralEvents(), .. more]);

    public static UserState User(params object[] events) => Fold.Replay(UserState.Initial, events, UserState.Evolve);

    public static MessagePosted Post(string by, string text = "hi", long? threadRootSeq = null) =>
        new(C, "m" + text, by, text, threadRootSeq, Mentions.None);

    /// <summary>The rejection a decision answers with: its stable error code.</summary>
    public static string RejectionOf(Action when) => Assert.Throws<CommandRejected>(when).Code;
}
