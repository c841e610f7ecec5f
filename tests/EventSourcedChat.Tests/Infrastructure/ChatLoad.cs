using System.Globalization;
using System.Net;
using System.Text.Json;
using Npgsql;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A workspace under live load for tests of operations on a running system (rebuilds, restarts): ada and bob in two
/// public channels, one background lane per channel that keeps acting through the shared host (top-level posts, some
/// mentioning bob, ada or <c>@channel</c>, thread replies, edits, reactions, read markers, new users joining, new
/// channels) and remembers every acknowledged command, so the checks can tell what each read model and each hub
/// client must show: every acknowledged post exactly once.
/// </summary>
/// <remarks>
/// A lane acts one command at a time and only in its own channel, so the order of its acknowledgements is the order
/// of the channel's stream. Stopping never cancels a request in flight (an append that went through but was not
/// acknowledged would make the expectation unknowable): the lanes finish the action they are in, then end.
/// </remarks>
public sealed class ChatLoad : IAsyncDisposable
{
    private const string Emoji = "eyes";
    private const int MaxActionsPerLane = 400;

    private readonly NpgsqlDataSource _db;
    private readonly Func<string, Task<TestUser>> _register;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>
    /// The lanes' commands on the workspace stream (adding a member, creating a channel) take turns: two at once would
    /// race for the stream's version and one would get 409 <c>conflict</c> (optimistic concurrency, by design).
    /// </summary>
    private readonly SemaphoreSlim _workspaceTurn = new(1, 1);
    private readonly List<Task> _running = [];
    private long _lastPosition;

    private ChatLoad(NpgsqlDataSource db, Func<string, Task<TestUser>> register, TestUser ada, TestUser bob, string workspaceId)
    {
        _db = db;
        _register = register;
        Ada = ada;
        Bob = bob;
        WorkspaceId = workspaceId;
    }

    /// <summary>The workspace admin, member of both channels.</summary>
    public TestUser Ada { get; }

    /// <summary>A member of both channels who reacts, replies and moves his read marker.</summary>
    public TestUser Bob { get; }

    public string WorkspaceId { get; }

    public IReadOnlyList<Lane> Lanes { get; private set; } = [];

    /// <summary>The position of the last command acknowledged so far.</summary>
    public long LastPosition => Interlocked.Read(ref _lastPosition);

    /// <summary>Actions acknowledged by the slowest lane.</summary>
    public int Actions => Lanes.Min(l => l.Actions);

    /// <summary>Ada, bob, their workspace and the two channels (<c>general</c> and <c>random</c>, both members of each); nothing runs yet.</summary>
    public static async Task<ChatLoad> CreateAsync(NpgsqlDataSource db, Func<string, Task<TestUser>> register)
    {
        var ada = await register("ada");
        var bob = await register("bob");
        var ws = (await ada.Ok("POST", "/v1/workspaces", new { name = "Load" }, HttpStatusCode.Created)).GetProperty("workspaceId").GetString()!;
        await ada.Ok("POST", $"/v1/workspaces/{ws}/members", new { userId = bob.UserId });
        var load = new ChatLoad(db, register, ada, bob, ws);
        var lanes = new List<Lane>();
        foreach (var (name, creator, other) in new[] { ("general", ada, bob), ("random", bob, ada) })
        {
            var channel = (await creator.Ok("POST", $"/v1/workspaces/{ws}/channels", new { name }, HttpStatusCode.Created))
                .GetProperty("channelId").GetString()!;
            load.Acknowledged(await other.Ok("POST", $"/v1/channels/{channel}/join"));
            lanes.Add(new Lane(load, lanes.Count, channel, name, [ada, bob]));
        }
        load.Lanes = lanes;
        return load;
    }

    /// <summary>Starts every lane in the background.</summary>
    public void Start()
    {
        foreach (var lane in Lanes)
        {
            _running.Add(Task.Run(() => lane.RunAsync(_stop.Token)));
        }
    }

    /// <summary>Waits (bounded) until every lane has acknowledged at least <paramref name="actions"/> actions; a failed lane fails it at once.</summary>
    public async Task UntilEveryLaneActedAsync(int actions, TimeSpan? timeout = null)
    {
        await Eventually.Until(async () =>
        {
            if (_running.FirstOrDefault(t => t.IsFaulted) is { } failed)
            {
                await failed; // the lane's own error, not a time-out
            }
            return Actions;
        }, n => n >= actions, timeout ?? TimeSpan.FromSeconds(60), $"every load lane to acknowledge {actions} actions");
    }

    /// <summary>
    /// Stops the lanes after the action each is in (rethrowing a lane's error), then posts one last top-level message
    /// in every channel, so the channels' last event is a known post.
    /// </summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_running);
        await PostLastWordAsync();
    }

    /// <summary>Ada posts one more top-level message in every channel (the lanes must be stopped).</summary>
    public async Task PostLastWordAsync()
    {
        foreach (var lane in Lanes)
        {
            await lane.PostAsync(Ada, "the last word", topLevel: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_running).WaitAsync(TimeSpan.FromSeconds(30));
        }
#pragma warning disable CA1031 // a lane's error was already reported by StopAsync, or the test failed before it
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        _stop.Dispose();
        _workspaceTurn.Dispose();
    }

    private void Acknowledged(JsonElement answer)
    {
        var position = answer.GetProperty("position").GetInt64();
        long seen;
        while ((seen = Interlocked.Read(ref _lastPosition)) < position
               && Interlocked.CompareExchange(ref _lastPosition, position, seen) != seen)
        {
        }
    }

    /// <summary>Everyone the checks read as: ada, bob and every user who joined a channel during the load.</summary>
    public IEnumerable<TestUser> Users => new[] { Ada, Bob }.Concat(Lanes.SelectMany(l => l.Joiners.Select(j => j.User)));

    // ---- What the read models must serve ----------------------------------------------------------------------------

    /// <summary>
    /// Checks, through <paramref name="host"/> and with <c>?minPosition=</c> at the last acknowledged command, that what
    /// <paramref name="projection"/> serves holds every acknowledged post (and change) exactly once.
    /// </summary>
    public Task AssertServedOnceAsync(string projection, ChatHost host) => projection switch
    {
        "history" => AssertHistoryAsync(host),
        "unread" => AssertUnreadAsync(host),
        "search" => AssertSearchAsync(host),
        "directory" => AssertDirectoryAsync(host),
        _ => throw new ArgumentOutOfRangeException(nameof(projection), projection, "no read-side check for it"),
    };

    /// <summary>Every top-level post once, in seq order, with its current text, reply count and reactions; every thread's replies once, in order.</summary>
    public async Task AssertHistoryAsync(ChatHost host)
    {
        var bob = Bob.On(host);
        foreach (var lane in Lanes)
        {
            var served = new List<JsonElement>();
            var after = 0L;
            while (true)
            {
                var page = await bob.Ok("GET", $"/v1/channels/{lane.ChannelId}/messages?after={after}&limit=200&minPosition={LastPosition}");
                var messages = page.GetProperty("messages").EnumerateArray().ToList();
                served.AddRange(messages);
                if (!page.GetProperty("hasMore").GetBoolean() || messages.Count == 0)
                {
                    break;
                }
                after = messages[^1].GetProperty("seq").GetInt64();
            }
            Assert.Equal(lane.Messages.Where(m => m.Root is null).Select(Describe), served.Select(DescribeServed));

            foreach (var root in lane.Messages.Where(m => m.Replies > 0))
            {
                var thread = await bob.Ok("GET", $"/v1/channels/{lane.ChannelId}/messages/{root.Seq}/thread?limit=200&minPosition={LastPosition}");
                Assert.False(thread.GetProperty("hasMore").GetBoolean());
                Assert.Equal(
                    lane.Messages.Where(m => m.Root == root.Seq).Select(Describe),
                    thread.GetProperty("replies").EnumerateArray().Select(DescribeServed));
            }
        }

        static string Describe(Message m) =>
            $"{m.Seq} {m.Text} replies={m.Replies} reactions={(m.ReactedBy.Count == 0 ? "" : $"{Emoji}:{string.Join(',', m.ReactedBy)}")} edited={m.Edited}";

        static string DescribeServed(JsonElement m)
        {
            var reactions = string.Join(";", m.GetProperty("reactions").EnumerateArray().Select(r =>
                $"{r.GetProperty("emoji").GetString()}:{string.Join(',', r.GetProperty("userIds").EnumerateArray().Select(u => u.GetString()))}"));
            return $"{m.GetProperty("seq").GetInt64()} {m.GetProperty("text").GetString()} replies={m.GetProperty("replyCount").GetInt32()} "
                   + $"reactions={reactions} edited={m.GetProperty("editedAt").ValueKind != JsonValueKind.Null}";
        }
    }

    /// <summary>Every user's unread and mention counts in both channels, as their read marker and join point make them.</summary>
    public async Task AssertUnreadAsync(ChatHost host)
    {
        foreach (var user in Users)
        {
            var list = await user.On(host).Ok("GET", $"/v1/workspaces/{WorkspaceId}/channels?minPosition={LastPosition}");
            var served = Lanes.Select(lane =>
            {
                var c = list.EnumerateArray().Single(c => c.GetProperty("channelId").GetString() == lane.ChannelId);
                return $"{lane.Name} member={c.GetProperty("isMember").GetBoolean()} unread={c.GetProperty("unreadCount").GetInt64()} "
                       + $"mentions={c.GetProperty("mentionCount").GetInt64()}";
            });
            Assert.Equal(Lanes.Select(lane => lane.ExpectedCounts(user)), served);
        }
    }

    /// <summary>
    /// Every post and reply once, with its current text: each lane's messages carry a bucket word (at most 40 messages
    /// a bucket), and a search for it in the channel finds exactly that bucket.
    /// </summary>
    public async Task AssertSearchAsync(ChatHost host)
    {
        var bob = Bob.On(host);
        foreach (var lane in Lanes)
        {
            foreach (var bucket in lane.Messages.GroupBy(m => m.Bucket))
            {
                var found = await bob.Ok("GET",
                    $"/v1/search?workspaceId={WorkspaceId}&channelId={lane.ChannelId}&q={bucket.Key}&limit=100&minPosition={LastPosition}");
                Assert.False(found.GetProperty("hasMore").GetBoolean());
                Assert.Equal(
                    bucket.OrderBy(m => m.Seq).Select(m => $"{m.Seq} {m.Text}"),
                    found.GetProperty("results").EnumerateArray()
                        .Select(r => (Seq: r.GetProperty("seq").GetInt64(), Text: r.GetProperty("text").GetString()))
                        .OrderBy(r => r.Seq).Select(r => $"{r.Seq} {r.Text}"));
            }
        }
    }

    /// <summary>Each channel's members once (founders and joiners), every channel of the workspace once, member counts and last seqs.</summary>
    public async Task AssertDirectoryAsync(ChatHost host)
    {
        var ada = Ada.On(host);
        foreach (var lane in Lanes)
        {
            var members = await ada.Ok("GET", $"/v1/channels/{lane.ChannelId}/members?minPosition={LastPosition}");
            Assert.Equal(
                lane.Members.Select(m => m.User.UserId).Order(StringComparer.Ordinal),
                members.EnumerateArray().Select(m => m.GetProperty("userId").GetString()!).Order(StringComparer.Ordinal));
        }
        var channels = (await ada.Ok("GET", $"/v1/workspaces/{WorkspaceId}/channels?minPosition={LastPosition}")).EnumerateArray().ToList();
        Assert.Equal(
            Lanes.SelectMany(l => l.CreatedChannels.Prepend(l.Name)).Order(StringComparer.Ordinal),
            channels.Select(c => c.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(
            Lanes.Select(l => $"{l.Name} members={l.Members.Count} lastSeq={l.Messages[^1].Seq}"),
            Lanes.Select(l => channels.Single(c => c.GetProperty("channelId").GetString() == l.ChannelId))
                .Select(c => $"{c.GetProperty("name").GetString()} members={c.GetProperty("memberCount").GetInt32()} lastSeq={c.GetProperty("lastSeq").GetInt64()}"));
    }

    /// <summary>
    /// The read model's tables equal a build of the projection from scratch (row for row, duplicates counted). The live
    /// projection must have caught up with the last command (a read with <c>?minPosition=</c> proves it).
    /// </summary>
    public async Task AssertEqualsBuildFromScratchAsync(string projection)
    {
        var p = RebuildComparison.Named(projection);
        var check = $"check_{p.Name}";
        await RebuildComparison.BuildFromScratchAsync(_db, p, check);
        var differing = await RebuildComparison.RowsDifferingAsync(_db, p.Schema, check);
        await RebuildComparison.DropAsync(_db, check);
        Assert.True(differing == 0, $"{differing} rows of {p.Schema} differ from a build from scratch");
    }

    /// <summary>Each hub connection got every post and reply of both channels exactly once, in seq order, as posted (waits, bounded, for the last).</summary>
    public async Task AssertDeliveredOnceInOrderAsync(IEnumerable<HubClient> connections)
    {
        foreach (var connection in connections)
        {
            var events = await connection.WaitUntilAsync(
                events => Lanes.All(l => PostedIn(events, l).Any(e => e.GetProperty("seq").GetInt64() == l.Messages[^1].Seq)),
                TimeSpan.FromSeconds(30), "the last post of every channel");
            foreach (var lane in Lanes)
            {
                Assert.Equal(
                    lane.Messages.Select(m => $"{m.Seq} {m.PostedText}"),
                    PostedIn(events, lane).Select(e => $"{e.GetProperty("seq").GetInt64()} {e.GetProperty("data").GetProperty("text").GetString()}"));
            }
            var positions = events.Where(e => e.TryGetProperty("position", out var p) && p.ValueKind == JsonValueKind.Number)
                .Select(e => e.GetProperty("position").GetInt64()).ToList();
            Assert.Equal(positions.Count, positions.Distinct().Count());
        }

        static IEnumerable<JsonElement> PostedIn(IEnumerable<JsonElement> events, Lane lane) =>
            events.Where(e => e.GetProperty("type").GetString() == "message.posted" && e.GetProperty("channelId").GetString() == lane.ChannelId);
    }

    // ---- The lanes ----------------------------------------------------------------------------------------------------

    /// <summary>A message as the load posted and changed it.</summary>
    public sealed class Message(long seq, string authorId, long? root, string text, string bucket, IReadOnlyCollection<string> mentions, bool broadcast)
    {
        public long Seq { get; } = seq;
        public string AuthorId { get; } = authorId;
        public long? Root { get; } = root;
        public string PostedText { get; } = text;
        public string Text { get; set; } = text;
        public bool Edited { get; set; }
        public string Bucket { get; } = bucket;
        public IReadOnlyCollection<string> Mentions { get; } = mentions;
        public bool Broadcast { get; } = broadcast;
        public List<string> ReactedBy { get; } = [];
        public int Replies { get; set; }
    }

    public sealed record Member(TestUser User, long JoinedAfterSeq);

    /// <summary>One channel's load, acting one command at a time.</summary>
    public sealed class Lane(ChatLoad load, int index, string channelId, string name, IEnumerable<TestUser> founders)
    {
        private int _actions;

        public string ChannelId { get; } = channelId;
        public string Name { get; } = name;
        public List<Message> Messages { get; } = [];
        public List<Member> Members { get; } = founders.Select(u => new Member(u, 0)).ToList();
        public IEnumerable<Member> Joiners => Members.Skip(2);
        public List<string> CreatedChannels { get; } = [];

        /// <summary>The highest seq bob marked read in this channel.</summary>
        public long BobMarker { get; private set; }

        public int Actions => Volatile.Read(ref _actions);

        public async Task RunAsync(CancellationToken stop)
        {
            for (var i = 0; i < MaxActionsPerLane && !stop.IsCancellationRequested; i++)
            {
                await ActAsync(i);
                Interlocked.Increment(ref _actions);
            }
        }

        private async Task ActAsync(int i)
        {
            var (ada, bob) = (load.Ada, load.Bob);
            var roots = Messages.Where(m => m.Root is null).ToList();
            switch (i % 20)
            {
                case 3 or 13 when roots.Count > 0:
                    // Replies go to the first three roots, so threads get several replies each.
                    var root = roots[i / 20 % Math.Min(3, roots.Count)];
                    await PostAsync(bob, $"reply {i}", topLevel: false, root);
                    break;
                case 5 or 15 when roots.LastOrDefault(m => m.AuthorId == ada.UserId) is { } mine:
                    mine.Text += " (edited)";
                    mine.Edited = true;
                    load.Acknowledged(await ada.Ok("PATCH", $"/v1/channels/{ChannelId}/messages/{mine.Seq}", new { text = mine.Text }));
                    break;
                case 7 or 17 when roots.Count > 0:
                    load.Acknowledged(await bob.Ok("PUT", $"/v1/channels/{ChannelId}/messages/{roots[^1].Seq}/reactions/{Emoji}"));
                    if (!roots[^1].ReactedBy.Contains(bob.UserId))
                    {
                        roots[^1].ReactedBy.Add(bob.UserId);
                    }
                    break;
                case 8 or 18 when Messages.Count > 0:
                    load.Acknowledged(await bob.Ok("POST", $"/v1/channels/{ChannelId}/read", new { seq = Messages[^1].Seq }));
                    BobMarker = Math.Max(BobMarker, Messages[^1].Seq);
                    break;
                case 9:
                    var joiner = await load._register($"joiner{index}x{i}");
                    var created = $"{Name}-{i}";
                    await load._workspaceTurn.WaitAsync();
                    try
                    {
                        load.Acknowledged(await ada.Ok("POST", $"/v1/workspaces/{load.WorkspaceId}/members", new { userId = joiner.UserId }));
                        load.Acknowledged(await ada.Ok("POST", $"/v1/workspaces/{load.WorkspaceId}/channels", new { name = created }, HttpStatusCode.Created));
                    }
                    finally
                    {
                        load._workspaceTurn.Release();
                    }
                    CreatedChannels.Add(created);
                    load.Acknowledged(await joiner.Ok("POST", $"/v1/channels/{ChannelId}/join"));
                    Members.Add(new Member(joiner, Messages.Count == 0 ? 0 : Messages[^1].Seq));
                    break;
                default:
                    var byAda = i % 2 == 0;
                    var text = (i % 20) switch
                    {
                        0 when byAda => $"m{i} @channel",
                        4 when byAda => $"m{i} for <@{bob.UserId}>",
                        11 when !byAda => $"m{i} for <@{ada.UserId}>",
                        _ => $"m{i}",
                    };
                    await PostAsync(byAda ? ada : bob, text, topLevel: true);
                    break;
            }
        }

        /// <summary>Posts (a top-level message, or a reply to <paramref name="root"/>) and records it; the text gets the lane's bucket word.</summary>
        public async Task PostAsync(TestUser author, string text, bool topLevel, Message? root = null)
        {
            var bucket = $"w{index}b{Messages.Count / 40}";
            text = $"{bucket} {text}";
            var answer = await author.Ok("POST", $"/v1/channels/{ChannelId}/messages",
                topLevel ? new { text } : new { text, threadRootSeq = (long?)root!.Seq }, HttpStatusCode.Created);
            load.Acknowledged(answer);
            // Posts mention ada or bob only (the joiners list grows on the other lane's thread).
            var mentions = new[] { load.Ada, load.Bob }
                .Where(u => u.UserId != author.UserId && text.Contains($"<@{u.UserId}>", StringComparison.Ordinal))
                .Select(u => u.UserId).ToList();
            Messages.Add(new Message(answer.GetProperty("seq").GetInt64(), author.UserId, root?.Seq, text, bucket, mentions,
                text.Contains("@channel", StringComparison.Ordinal)));
            if (root is not null)
            {
                root.Replies++;
            }
        }

        /// <summary>
        /// What the channel list must show <paramref name="user"/> for this channel: top-level messages by others after
        /// their baseline (the later of where they joined and their read marker), and of those the ones that mention
        /// them or the channel.
        /// </summary>
        public string ExpectedCounts(TestUser user)
        {
            if (Members.SingleOrDefault(m => m.User.UserId == user.UserId) is not { } member)
            {
                return $"{Name} member=False unread=0 mentions=0";
            }
            var baseline = Math.Max(member.JoinedAfterSeq, user.UserId == load.Bob.UserId ? BobMarker : 0);
            var unread = Messages.Where(m => m.Root is null && m.Seq > baseline && m.AuthorId != user.UserId).ToList();
            var mentions = unread.Count(m => m.Broadcast || m.Mentions.Contains(user.UserId));
            return string.Create(CultureInfo.InvariantCulture, $"{Name} member=True unread={unread.Count} mentions={mentions}");
        }
    }
}
