using EventSourcedChat.Commands;
using EventSourcedChat.Commands.Accounts;
using EventSourcedChat.Commands.Channels;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using EventSourcedChat.Tests.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Tests.WriteSide;

/// <summary>
/// The write-side tables that commands decide on hold exactly what the one fold of each stream kind says: random logs
/// (seeded, bounded) are appended through the event store with the write side's Apply in each append's transaction,
/// and the tables, and the slices the command pipeline loads from them, are compared with the logs folded by Evolve.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FoldAgreement(PostgresFixture db) : IAsyncLifetime
{
    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task The_write_side_tables_agree_with_the_fold_of_random_logs(int seed)
    {
        var store = db.CreateStore();
        var logs = new RandomLogs(seed);
        var workspaceLog = logs.Workspace();
        var channelLogs = Enumerable.Range(0, 4).Select(logs.Channel).ToList();
        var channelIds = channelLogs.Select(l => ((ChannelCreated)l[0]).ChannelId).ToList();
        var userLogs = logs.Users.Select(u => logs.User(u, channelIds)).ToList();
        var all = workspaceLog.Concat(channelLogs.SelectMany(l => l)).Concat(userLogs.SelectMany(l => l)).Select(e => e.GetType()).ToHashSet();
        Assert.All(EventTypes.All, t => Assert.True(all.Contains(t), $"seed {seed}: the random logs never hold a {t.Name}: generate it in RandomLogs."));

        await AppendAsync(store, logs, StreamNames.Workspace(logs.WorkspaceId), workspaceLog,
            (tx, first, events, ct) => WorkspaceWriteSide.ApplyAsync(tx, logs.WorkspaceId, first, events, ct));
        foreach (var (log, id) in channelLogs.Zip(channelIds))
        {
            await AppendAsync(store, logs, StreamNames.Channel(id), log, (tx, first, events, ct) => ChannelWriteSide.ApplyAsync(tx, id, first, events, ct));
        }
        foreach (var (log, id) in userLogs.Zip(logs.Users))
        {
            await AppendAsync(store, logs, StreamNames.User(id), log, (tx, _, events, ct) => UserWriteSide.ApplyAsync(tx, id, events, ct));
        }

        var workspace = Fold.Replay(WorkspaceState.Initial, workspaceLog, WorkspaceState.Evolve);
        var channels = channelLogs.Select(l => Fold.Replay(ChannelState.Initial, l, ChannelState.Evolve)).ToList();
        var users = userLogs.Select(l => Fold.Replay(UserState.Initial, l, UserState.Evolve)).ToList();
        var (expected, actual) = (FoldFacts(workspace, channels, users), await TableFacts());
        Assert.True(expected.SequenceEqual(actual), $"seed {seed}: the write-side tables differ from the fold.\nOnly in the fold:\n  "
            + string.Join("\n  ", expected.Except(actual)) + "\nOnly in the tables:\n  " + string.Join("\n  ", actual.Except(expected)));

        // What the pipeline loads (under its lock) is the fold's slice: membership, role, the message and the reaction.
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        foreach (var invite in workspace.Invites.Values)
        {
            var loadedWorkspace = await WorkspaceWriteSide.LoadAsync(tx, logs.WorkspaceId, [], default);
            Assert.Equal(invite, (await InviteWriteSide.WithInviteAsync(tx, loadedWorkspace, invite.InviteId, default)).InviteOf(invite.InviteId));
        }
        foreach (var channel in channels)
        {
            foreach (var user in logs.Users)
            {
                var messages = channel.Messages.Values.OrderBy(m => m.Seq).ToList();
                var message = messages.Count == 0 ? null : messages[(logs.Users.IndexOf(user) * 7 + seed) % messages.Count];
                var seq = message?.Seq ?? 2;
                var emoji = message?.Reactions.FirstOrDefault(r => r.UserId == user).Emoji ?? "tada";
                var (loadedWorkspace, loaded) = await ChannelWriteSide.LockAsync(tx, channel.ChannelId, user, new ChannelSlice(seq, emoji, Hold: true), default);
                var why = $"seed {seed}, channel {channel.ChannelId}, user {user}";
                Assert.True(channel.IsMember(user) == loaded.IsMember(user), why);
                Assert.True(workspace.RoleOf(user) == loadedWorkspace.RoleOf(user), why);
                Assert.Equal((channel.Name, channel.Kind, channel.Topic, channel.CreatedBy, channel.Archived, channel.Held, channel.Version, channel.PinCount),
                    (loaded.Name, loaded.Kind, loaded.Topic, loaded.CreatedBy, loaded.Archived, loaded.Held, loaded.Version, loaded.PinCount));
                var (folded, read) = (channel.Message(seq), loaded.Message(seq));
                Assert.Equal((folded?.AuthorId, folded?.ThreadRootSeq, folded?.Deleted, folded?.HasReaction(emoji, user), folded?.Pinned),
                    (read?.AuthorId, read?.ThreadRootSeq, read?.Deleted, read?.HasReaction(emoji, user), read?.Pinned));
            }
        }
    }

    internal delegate Task Apply(NpgsqlTransaction tx, long firstVersion, IReadOnlyList<object> events, CancellationToken ct);

    internal static async Task AppendAsync(PostgresEventStore store, RandomLogs logs, string stream, List<object> log, Apply apply)
    {
        long version = 0;
        foreach (var chunk in logs.Appends(log))
        {
            var data = chunk.Select(e => new EventData(Guid.CreateVersion7(), EventTypes.StoredTypeOf(e.GetType()), EventTypes.Serialize(e))).ToList();
            var result = await store.AppendAsync(stream, version == 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exactly(version), data,
                new EventMetadata("test", "fold-agreement"), (appended, tx, ct) => apply(tx, appended.Version - chunk.Count + 1, chunk, ct));
            version = result.Version;
        }
    }

    private static List<string> FoldFacts(WorkspaceState workspace, List<ChannelState> channels, List<UserState> users)
    {
        List<string> facts = [$"workspace {workspace.WorkspaceId} {workspace.Name} {workspace.CreatedBy} {workspace.Version}"];
        facts.AddRange(workspace.Roles.Select(r => $"role {workspace.WorkspaceId} {r.Key} {r.Value}"));
        facts.AddRange(workspace.Invites.Values.Select(i =>
            $"invite {workspace.WorkspaceId} {i.InviteId} {i.CodeHash} {i.Email ?? "-"} {i.MaxUses} {i.Uses} {i.ExpiresAt.ToUnixTimeSeconds()} {i.CreatedBy} {i.Revoked}"));
        foreach (var c in channels)
        {
            facts.Add($"channel {c.ChannelId} {c.WorkspaceId} {c.Name} {c.Kind} {c.Topic ?? "-"} {c.CreatedBy} {c.Archived} {c.Version} held={c.Held} pins={c.PinCount}");
            facts.AddRange(c.Members.Keys.Select(u => $"member {c.ChannelId} {u}"));
            foreach (var m in c.Messages.Values)
            {
                facts.Add($"message {c.ChannelId} {m.Seq} {m.AuthorId} {m.ThreadRootSeq?.ToString() ?? "-"} {m.Deleted} pinned={m.Pinned}");
                facts.AddRange(m.Reactions.Select(r => $"reaction {c.ChannelId} {m.Seq} {r.Emoji} {r.UserId}"));
            }
        }
        foreach (var u in users)
        {
            facts.Add($"user {u.UserId} {u.Email} {u.DisplayName} {ProfileFacts.Of(u)}");
            facts.Add($"password {u.UserId} {u.PasswordHash} {u.Reset?.TokenHash ?? "-"} {u.Reset?.RequestedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} "
                + (u.Reset?.ExpiresAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"));
            facts.AddRange(u.ReadMarkers.Select(m => $"marker {u.UserId} {m.Key} {m.Value}"));
            if (u.Notifications is var n && n != Commands.Notifications.NotificationPreferences.Default)
            {
                facts.Add($"notify {u.UserId} {n.Email} {n.DigestMinutes} {n.DndFrom ?? "-"} {n.DndTo ?? "-"} {n.DndTimeZone ?? "-"} "
                    + (n.SnoozeUntil?.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"));
            }
            facts.AddRange(u.ChannelNotifications.Select(c => $"channel-notify {u.UserId} {c.Key} {c.Value.Level} {c.Value.Muted}"));
            facts.AddRange(u.FollowedThreads.Select(f => $"follow {u.UserId} {f.Key.ChannelId} {f.Key.RootSeq} {f.Value}"));
        }
        facts.Sort(StringComparer.Ordinal);
        return facts;
    }

    private async Task<List<string>> TableFacts()
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
        await Read("select format('workspace %s %s %s %s', workspace_id, name, created_by, version) from ws_workspaces");
        await Read("""
            select format('notify %s %s %s %s %s %s %s', user_id, case when email then 'True' else 'False' end, digest_minutes,
                          coalesce(dnd_from, '-'), coalesce(dnd_to, '-'), coalesce(dnd_time_zone, '-'),
                          coalesce(extract(epoch from snooze_until)::bigint::text, '-'))
              from ws_notification_preferences
            """);
        await Read("select format('channel-notify %s %s %s %s', user_id, channel_id, level, case when muted then 'True' else 'False' end) from ws_channel_notifications");
        await Read("select format('follow %s %s %s %s', user_id, channel_id, root_seq, case when following then 'True' else 'False' end) from ws_thread_follows");
        await Read("select format('role %s %s %s', workspace_id, user_id, role) from ws_workspace_members");
        await Read("""
            select format('invite %s %s %s %s %s %s %s %s %s', workspace_id, invite_id, code_hash, coalesce(email, '-'), max_uses, uses,
                          extract(epoch from expires_at)::bigint, created_by, case when revoked then 'True' else 'False' end)
              from ws_invites
            """);
        await Read("""
            select format('channel %s %s %s %s %s %s %s %s held=%s pins=%s', channel_id, workspace_id, name, kind, coalesce(topic, '-'), created_by,
                          case when archived then 'True' else 'False' end, version,
                          case when exists (select 1 from es_stream_holds h where h.stream_id = 'channel-' || channel_id) then 'True' else 'False' end,
                          pin_count)
              from ws_channels
            """);
        await Read("select format('member %s %s', channel_id, user_id) from ws_channel_members");
        await Read("""
            select format('message %s %s %s %s %s pinned=%s', channel_id, seq, author_id, coalesce(thread_root_seq::text, '-'),
                          case when deleted then 'True' else 'False' end, case when pinned then 'True' else 'False' end) from ws_messages
            """);
        await Read("select format('reaction %s %s %s %s', channel_id, seq, emoji, user_id) from ws_reactions");
        await Read($"select format('user %s %s %s %s', user_id, email, display_name, {ProfileFacts.Sql}) from ws_users");
        await Read("""
            select format('password %s %s %s %s %s', user_id, password_hash, coalesce(reset_token_hash, '-'),
                          coalesce(extract(epoch from reset_requested_at)::bigint::text, '-'), coalesce(extract(epoch from reset_expires_at)::bigint::text, '-'))
              from ws_users
            """);
        await Read("select format('marker %s %s %s', user_id, channel_id, seq) from ws_read_markers");
        facts.Sort(StringComparer.Ordinal);
        return facts;
    }
}
