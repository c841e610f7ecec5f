using EventSourcedChat.Commands;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.WriteSide;

/// <summary>
/// The read models answer what the one fold of each stream kind says: random logs (seeded, bounded; one short channel
/// ends with each channel event type) are appended, the directory, history and unread projections are built from
/// them, and their rows are compared with the logs folded by Evolve: channels (name, kind, topic, archived, member
/// count, last seq), members, roles, users, messages (author, thread, tombstone), reactions of live messages, pins, top-level
/// messages counted unread, read markers, profiles (title, time zone, status as set).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ProjectionAgreement(PostgresFixture db) : IAsyncLifetime
{
    /// <summary>
    /// Channel events that do not move the directory's last seq: legal holds, which members are not told about (the
    /// push worker does not send them either). Every other channel event does.
    /// </summary>
    private static readonly Type[] NotCountedInLastSeq = [typeof(LegalHoldPlaced), typeof(LegalHoldLifted)];

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public async Task Directory_history_and_unread_agree_with_the_fold_of_random_logs(int seed)
    {
        var store = db.CreateStore();
        var logs = new RandomLogs(seed, eventsPerChannel: 40);
        var workspaceLog = logs.Workspace();
        var channelTypes = EventTypes.All.Where(t => t.GetConstructors().Single().GetParameters()[0].Name == "ChannelId"
            && t != typeof(ChannelCreated)).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        Assert.Contains(typeof(MessageEdited), channelTypes);
        var channelLogs = Enumerable.Range(0, 3).Select(logs.Channel)
            .Concat(channelTypes.Select((t, i) => logs.ChannelEndingWith(100 + i, t))).ToList();
        var channelIds = channelLogs.Select(l => ((ChannelCreated)l[0]).ChannelId).ToList();
        var userLogs = logs.Users.Select(u => logs.User(u, channelIds)).ToList();

        await FoldAgreement.AppendAsync(store, logs, StreamNames.Workspace(logs.WorkspaceId), workspaceLog,
            (tx, first, events, ct) => WorkspaceWriteSide.ApplyAsync(tx, logs.WorkspaceId, first, events, ct));
        foreach (var (log, id) in channelLogs.Zip(channelIds))
        {
            await FoldAgreement.AppendAsync(store, logs, StreamNames.Channel(id), log, (tx, first, events, ct) => ChannelWriteSide.ApplyAsync(tx, id, first, events, ct));
        }
        foreach (var (log, id) in userLogs.Zip(logs.Users))
        {
            await FoldAgreement.AppendAsync(store, logs, StreamNames.User(id), log, (tx, _, events, ct) => UserWriteSide.ApplyAsync(tx, id, events, ct));
        }
        foreach (var name in new[] { "directory", "history", "unread", "profiles" })
        {
            await RebuildComparison.BuildFromScratchAsync(db.DataSource, RebuildComparison.Named(name), $"fold_{name}");
        }

        var workspace = Fold.Replay(WorkspaceState.Initial, workspaceLog, WorkspaceState.Evolve);
        var channels = channelLogs.Select(l => (Log: l, State: Fold.Replay(ChannelState.Initial, l, ChannelState.Evolve))).ToList();
        var users = userLogs.Select(l => Fold.Replay(UserState.Initial, l, UserState.Evolve)).ToList();

        List<string> expected = [$"workspace {workspace.WorkspaceId} {workspace.Name} {workspace.CreatedBy}"];
        expected.AddRange(workspace.Roles.Select(r => $"role {workspace.WorkspaceId} {r.Key} {r.Value}"));
        expected.AddRange(workspace.Invites.Values.Select(i =>
            $"invite {workspace.WorkspaceId} {i.InviteId} {i.Email ?? "-"} {i.MaxUses} {i.Uses} {i.ExpiresAt.ToUnixTimeSeconds()} {i.CreatedBy} {i.Revoked}"));
        foreach (var (log, c) in channels)
        {
            var lastSeq = log.FindLastIndex(e => !NotCountedInLastSeq.Contains(e.GetType())) + 1;
            expected.Add($"channel {c.ChannelId} {c.Name} {c.Kind} {c.Topic ?? "-"} {c.CreatedBy} {c.Archived} members={c.Members.Count} last={lastSeq}");
            expected.AddRange(c.Members.Keys.Select(u => $"member {c.ChannelId} {u}"));
            foreach (var m in c.Messages.Values)
            {
                expected.Add($"message {c.ChannelId} {m.Seq} {m.AuthorId} {m.ThreadRootSeq?.ToString() ?? "-"} {m.Deleted}");
                if (m.IsTopLevel)
                {
                    expected.Add($"unread {c.ChannelId} {m.Seq} {m.AuthorId} {m.Deleted}"); // replies are not unread in the channel
                }
                if (!m.Deleted)
                {
                    expected.AddRange(m.Reactions.Select(r => $"reaction {c.ChannelId} {m.Seq} {r.Emoji} {r.UserId}"));
                }
                if (m.Pinned)
                {
                    expected.Add($"pin {c.ChannelId} {m.Seq}");
                }
            }
        }
        foreach (var u in users)
        {
            expected.Add($"user {u.UserId} {u.DisplayName} {u.Email}");
            expected.Add($"profile {u.UserId} {u.DisplayName} {ProfileFacts.Of(u)}");
            expected.AddRange(u.ReadMarkers.Select(m => $"marker {u.UserId} {m.Key} {m.Value}"));
        }
        expected.Sort(StringComparer.Ordinal);
        var actual = await ReadModelFacts();
        Assert.True(expected.SequenceEqual(actual), $"seed {seed}: read models differ from the fold.\nOnly in the fold:\n  "
            + string.Join("\n  ", expected.Except(actual)) + "\nOnly in the read models:\n  " + string.Join("\n  ", actual.Except(expected)));
    }

    private async Task<List<string>> ReadModelFacts()
    {
        var facts = new List<string>();
        async Task Read(string sql)
        {
            await using var cmd = db.DataSource.CreateCommand(sql);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                facts.Add(r.GetString(0));
            }
        }
        await Read("select format('workspace %s %s %s', workspace_id, name, created_by) from fold_directory.workspaces");
        await Read("select format('role %s %s %s', workspace_id, user_id, role) from fold_directory.workspace_members");
        await Read("""
            select format('invite %s %s %s %s %s %s %s %s', workspace_id, invite_id, coalesce(email, '-'), max_uses, uses,
                          extract(epoch from expires_at)::bigint, created_by, case when revoked_at is not null then 'True' else 'False' end)
              from fold_directory.invites
            """);
        await Read("""
            select format('channel %s %s %s %s %s %s members=%s last=%s', channel_id, name, kind, coalesce(topic, '-'), created_by,
                          case when archived then 'True' else 'False' end, member_count, last_seq)
              from fold_directory.channels
            """);
        await Read("select format('member %s %s', channel_id, user_id) from fold_directory.channel_members");
        await Read("select format('user %s %s %s', user_id, display_name, email) from fold_directory.users");
        await Read($"select format('profile %s %s %s', user_id, display_name, {ProfileFacts.Sql}) from fold_profiles.profiles");
        await Read("""
            select format('message %s %s %s %s %s', channel_id, seq, user_id, coalesce(thread_root_seq::text, '-'),
                          case when deleted then 'True' else 'False' end) from fold_history.messages
            """);
        await Read("""
            select format('reaction %s %s %s %s', r.channel_id, r.seq, r.emoji, r.user_id) from fold_history.reactions r
              join fold_history.messages m on m.channel_id = r.channel_id and m.seq = r.seq where not m.deleted
            """);
        await Read("select format('pin %s %s', channel_id, seq) from fold_history.pins");
        await Read("""
            select format('unread %s %s %s %s', channel_id, seq, author_id, case when deleted then 'True' else 'False' end)
              from fold_unread.channel_messages
            """);
        await Read("select format('marker %s %s %s', user_id, channel_id, seq) from fold_unread.read_markers");
        facts.Sort(StringComparer.Ordinal);
        return facts;
    }
}
