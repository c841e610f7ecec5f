using System.Collections.Immutable;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Channels;

/// <summary>What of a channel a command names besides the actor: a message (and the actor's reaction on it), another user, the hold.</summary>
public sealed record ChannelSlice(long? Seq = null, string? Emoji = null, string? TargetUserId = null, bool Hold = false)
{
    public static ChannelSlice None { get; } = new();
}

/// <summary>
/// The write-side tables of channel streams (<c>ws_channels</c>, <c>ws_channel_members</c>, <c>ws_messages</c>,
/// <c>ws_reactions</c>): kept by <see cref="ApplyAsync"/>, one case per event, mirroring <see cref="ChannelState.Evolve"/>;
/// read in O(1) by <see cref="LockAsync"/> as the slice of the folded state a command needs.
/// </summary>
public static partial class ChannelWriteSide
{
    /// <summary>
    /// Locks the channel's stream until <paramref name="tx"/> ends (the event store's append lock, taken without a
    /// transaction id: commands on one channel, and the post groups of <c>PostGroups</c>, take turns instead of racing),
    /// then reads the slice: the channel, the actor's and the target's membership and workspace roles, the named
    /// message. One round trip. A channel that does not exist (or an invalid id) reads as <see cref="ChannelState.Initial"/>.
    /// </summary>
    public static Task<(WorkspaceState Workspace, ChannelState Channel)> LockAsync(
        NpgsqlTransaction tx, string channelId, string actorId, ChannelSlice slice, CancellationToken ct) =>
        ReadAsync(tx.Connection!, tx, channelId, actorId, slice, lockRow: true, ct);

    /// <summary>The same slice without a lock, for a command on another stream that only reads the channel (read markers).</summary>
    public static Task<(WorkspaceState Workspace, ChannelState Channel)> LoadAsync(
        NpgsqlTransaction tx, string channelId, string actorId, ChannelSlice slice, CancellationToken ct) =>
        ReadAsync(tx.Connection!, tx, channelId, actorId, slice, lockRow: false, ct);

    private static async Task<(WorkspaceState Workspace, ChannelState Channel)> ReadAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, string channelId, string actorId, ChannelSlice slice, bool lockRow, CancellationToken ct)
    {
        if (!Ids.IsValid(channelId))
        {
            return (WorkspaceState.Initial, ChannelState.Initial);
        }
        // Lock first, then read in later statements: under READ COMMITTED a statement that waited for the lock would
        // still see the other tables as they were when it started; the next statements see what the holder committed.
        await using var batch = new NpgsqlBatch(conn, tx);
        if (lockRow)
        {
            batch.BatchCommands.Add(PostgresEventStore.LockStreamCommand(StreamNames.Channel(channelId)));
        }
        batch.Add("""
            select c.workspace_id, c.name, c.kind, c.topic, c.created_by, c.archived, c.version,
                   exists (select 1 from ws_channel_members m where m.channel_id = c.channel_id and m.user_id = $2),
                   (select w.role from ws_workspace_members w where w.workspace_id = c.workspace_id and w.user_id = $2),
                   c.pin_count
              from ws_channels c where c.channel_id = $1
            """, channelId, actorId);
        if (slice.Seq is { } seq)
        {
            batch.Add("""
                select m.author_id, m.thread_root_seq, m.deleted,
                       exists (select 1 from ws_reactions r where r.channel_id = $1 and r.seq = $2 and r.emoji = $3 and r.user_id = $4),
                       m.pinned
                  from ws_messages m where m.channel_id = $1 and m.seq = $2
                """, channelId, seq, slice.Emoji ?? "", actorId);
        }
        if (slice.TargetUserId is { } target)
        {
            batch.Add("""
                select (select w.role from ws_workspace_members w join ws_channels c on c.workspace_id = w.workspace_id
                         where c.channel_id = $1 and w.user_id = $2),
                       exists (select 1 from ws_channel_members m where m.channel_id = $1 and m.user_id = $2)
                """, channelId, target);
        }
        if (slice.Hold)
        {
            batch.BatchCommands.Add(StreamHolds.IsHeld(StreamNames.Channel(channelId)));
        }
        await using var r = await batch.ExecuteReaderAsync(ct);
        if (lockRow)
        {
            await r.NextResultAsync(ct);
        }
        if (!await r.ReadAsync(ct))
        {
            return (WorkspaceState.Initial, ChannelState.Initial);
        }
        var roles = ImmutableDictionary<string, string>.Empty;
        var members = ImmutableDictionary<string, long>.Empty;
        var workspaceId = r.GetString(0);
        var channel = ChannelState.Initial with
        {
            ChannelId = channelId, WorkspaceId = workspaceId, Name = r.GetString(1), Kind = r.GetString(2),
            Topic = r.IsDBNull(3) ? null : r.GetString(3), CreatedBy = r.GetString(4), Archived = r.GetBoolean(5), Version = r.GetInt64(6),
            PinCount = r.GetInt32(9),
        };
        (members, roles) = Person(r, 7, actorId, members, roles);
        if (slice.Seq is { } messageSeq)
        {
            await r.NextResultAsync(ct);
            if (await r.ReadAsync(ct))
            {
                var reactions = r.GetBoolean(3) ? ImmutableHashSet.Create((slice.Emoji!, actorId)) : [];
                var message = new MessageState(messageSeq, r.GetString(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.GetBoolean(2), reactions)
                    { Pinned = r.GetBoolean(4) };
                channel = channel with { Messages = channel.Messages.Add(messageSeq, message) };
            }
        }
        if (slice.TargetUserId is { } targetId)
        {
            await r.NextResultAsync(ct);
            await r.ReadAsync(ct);
            (members, roles) = Person(r, 0, targetId, members, roles, roleFirst: true);
        }
        if (slice.Hold)
        {
            await r.NextResultAsync(ct);
            await r.ReadAsync(ct);
            channel = channel with { Held = r.GetBoolean(0) };
        }
        var workspace = WorkspaceState.Initial with { WorkspaceId = workspaceId, Roles = roles };
        return (workspace, channel with { Members = members });
    }

    /// <summary>Pins or unpins a live message and moves the channel's pin count by what changed (as <see cref="ChannelState.Evolve"/>).</summary>
    private static void AddPin(NpgsqlBatch batch, string channelId, long seq, bool pinned) => batch.Add("""
        with changed as (
            update ws_messages set pinned = $3 where channel_id = $1 and seq = $2 and not deleted and pinned <> $3 returning 1)
        update ws_channels set pin_count = pin_count + (select count(*)::int from changed) * (case when $3 then 1 else -1 end)
         where channel_id = $1
        """, channelId, seq, pinned);

    private static (ImmutableDictionary<string, long>, ImmutableDictionary<string, string>) Person(
        NpgsqlDataReader r, int at, string userId, ImmutableDictionary<string, long> members, ImmutableDictionary<string, string> roles,
        bool roleFirst = false)
    {
        var (memberAt, roleAt) = roleFirst ? (at + 1, at) : (at, at + 1);
        if (r.GetBoolean(memberAt))
        {
            members = members.SetItem(userId, 0); // when they joined is not kept
        }
        if (!r.IsDBNull(roleAt))
        {
            roles = roles.SetItem(userId, r.GetString(roleAt));
        }
        return (members, roles);
    }

    /// <summary>
    /// Moves the tables by the events just appended (versions <paramref name="firstVersion"/> on), one case per event, in
    /// one round trip with the channel row's new version. Every channel append calls it in its transaction.
    /// </summary>
    public static async Task ApplyAsync(NpgsqlTransaction tx, string channelId, long firstVersion, IReadOnlyList<object> events, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        var after = AddApply(batch, channelId, firstVersion, events);
        await batch.ExecuteNonQueryAsync(ct);
        await ApplyAfterAsync(tx, channelId, after, ct);
    }

    /// <summary>
    /// What <see cref="AddApply"/> leaves to its caller, after its batch ran in the same transaction: the files posts
    /// attach (marked attached, or the whole transaction refused if one was swept meanwhile) and the legal holds (written
    /// through the event store's API).
    /// </summary>
    public static async Task ApplyAfterAsync(NpgsqlTransaction tx, string channelId, IReadOnlyList<object> after, CancellationToken ct)
    {
        if (after.OfType<SharedFile>().ToList() is { Count: > 0 } files)
        {
            await AttachFiles.ApplyAsync(tx, files, ct);
        }
        var stream = StreamNames.Channel(channelId);
        foreach (var hold in after)
        {
            if (hold is LegalHoldPlaced or LegalHoldLifted)
            {
                _ = hold is LegalHoldPlaced placed
                    ? await StreamHolds.PlaceAsync(tx, stream, placed.Reason, ct)
                    : await StreamHolds.LiftAsync(tx, stream, ct);
            }
        }
    }

    /// <summary>
    /// Adds the statements of <see cref="ApplyAsync"/> to <paramref name="batch"/> (a caller that sends them with its
    /// append); answers what is left to <see cref="ApplyAfterAsync"/> once the batch ran (the legal-hold events and the
    /// files the posts attach).
    /// </summary>
    public static List<object> AddApply(NpgsqlBatch batch, string channelId, long firstVersion, IReadOnlyList<object> events)
    {
        var after = new List<object>();
        var files = new List<SharedFile>();
        var version = firstVersion;
        foreach (var e in events)
        {
            switch (e)
            {
                case ChannelCreated c:
                    batch.Add("""
                        insert into ws_channels (channel_id, workspace_id, name, kind, topic, created_by, version)
                        values ($1, $2, $3, $4, $5, $6, $7)
                        """, channelId, c.WorkspaceId, c.Name, c.Kind, c.Topic, c.CreatedBy, version);
                    if (c.Members.Count > 0)
                    {
                        batch.Add("insert into ws_channel_members (channel_id, user_id) select $1, unnest($2::text[]) on conflict do nothing",
                            channelId, c.Members.ToArray());
                    }
                    break;
                case ChannelRenamed n:
                    batch.Add("update ws_channels set name = $2 where channel_id = $1", channelId, n.Name);
                    break;
                case ChannelTopicSet t:
                    batch.Add("update ws_channels set topic = $2 where channel_id = $1", channelId, t.Topic);
                    break;
                case ChannelArchived:
                    batch.Add("update ws_channels set archived = true where channel_id = $1", channelId);
                    break;
                case ChannelUnarchived:
                    batch.Add("update ws_channels set archived = false where channel_id = $1", channelId);
                    break;
                case MemberJoined j:
                    batch.Add("insert into ws_channel_members (channel_id, user_id) values ($1, $2) on conflict do nothing", channelId, j.UserId);
                    break;
                case MemberLeft l:
                    batch.Add("delete from ws_channel_members where channel_id = $1 and user_id = $2", channelId, l.UserId);
                    break;
                case MessagePosted p:
                    batch.Add("insert into ws_messages (channel_id, seq, author_id, thread_root_seq) values ($1, $2, $3, $4)",
                        channelId, version, p.UserId, p.ThreadRootSeq);
                    files.AddRange(p.Files ?? []); // the upload rows are not the channel's: marked attached below
                    break;
                case MessageEdited:
                    break;
                case MessageDeleted d:
                    AddPin(batch, channelId, d.Seq, pinned: false); // a deleted message leaves the pins
                    batch.Add("update ws_messages set deleted = true where channel_id = $1 and seq = $2", channelId, d.Seq);
                    break;
                case MessagePinned p:
                    AddPin(batch, channelId, p.Seq, pinned: true);
                    break;
                case MessageUnpinned u:
                    AddPin(batch, channelId, u.Seq, pinned: false);
                    break;
                case ReactionAdded a:
                    batch.Add("insert into ws_reactions (channel_id, seq, emoji, user_id) values ($1, $2, $3, $4) on conflict do nothing",
                        channelId, a.Seq, a.Emoji, a.UserId);
                    break;
                case ReactionRemoved rr:
                    batch.Add("delete from ws_reactions where channel_id = $1 and seq = $2 and emoji = $3 and user_id = $4",
                        channelId, rr.Seq, rr.Emoji, rr.UserId);
                    break;
                case LegalHoldPlaced or LegalHoldLifted:
                    after.Add(e); // the hold row is the event store's: written through its API below
                    break;
                default:
                    throw new UnknownEventException("channel", e);
            }
            version++;
        }
        batch.Add("update ws_channels set version = $2 where channel_id = $1", channelId, version - 1);
        after.AddRange(files);
        return after;
    }
}
