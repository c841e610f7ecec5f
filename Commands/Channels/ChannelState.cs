using EventSourcedChat.Commands.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Commands.Channels;

/// <summary>What deciding a channel command needs to know, read in O(1) from write-side state.</summary>
public sealed record ChannelState(
    string ChannelId, string WorkspaceId, string Name, string Kind, string? Topic, string CreatedBy,
    bool Archived, long Version, bool ActorIsMember, string? ActorWorkspaceRole)
{
    public bool IsPrivate => Kind is "private" or "dm";
    public bool IsDm => Kind == "dm";
    public bool ActorIsAdmin => ActorWorkspaceRole == "admin";

    /// <summary>Private channels and DMs exist only for their members; public ones for the workspace's members.</summary>
    public bool VisibleToActor => IsPrivate ? ActorIsMember : ActorIsMember || ActorWorkspaceRole is not null;

    /// <summary>The channel as the actor may see it, or 404 exactly as for a channel that does not exist.</summary>
    public static async Task<ChannelState> LoadVisibleAsync(NpgsqlDataSource db, string channelId, Actor actor, CancellationToken ct)
    {
        var state = await LoadAsync(db, channelId, actor.UserId, ct);
        return state is { VisibleToActor: true } ? state : throw CommandRejected.NotFound("The channel");
    }

    /// <summary>
    /// The channel as the actor may see it, with its row locked until <paramref name="tx"/> ends: commands on one
    /// channel then take turns instead of racing and retrying (the hot path: posting).
    /// </summary>
    public static async Task<ChannelState> LockVisibleAsync(NpgsqlTransaction tx, string channelId, Actor actor, CancellationToken ct)
    {
        if (!Ids.IsValid(channelId))
        {
            throw CommandRejected.NotFound("The channel");
        }
        // Lock first, then read in a second statement: under READ COMMITTED a statement that waited for the lock
        // would still see the other tables (membership) as they were when it started; the next statement sees the
        // state the lock holder committed. Both go in one round trip.
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        var lockRow = new NpgsqlBatchCommand("select 1 from ws_channels where channel_id = $1 for update");
        lockRow.Parameters.AddWithValue(channelId);
        var read = new NpgsqlBatchCommand(Query);
        read.Parameters.AddWithValue(channelId);
        read.Parameters.AddWithValue(actor.UserId);
        batch.BatchCommands.Add(lockRow);
        batch.BatchCommands.Add(read);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        var state = await Read(reader, channelId, ct);
        return state is { VisibleToActor: true } ? state : throw CommandRejected.NotFound("The channel");
    }

    private const string Query = """
        select c.workspace_id, c.name, c.kind, c.topic, c.created_by, c.archived, c.version,
               exists (select 1 from ws_channel_members m where m.channel_id = c.channel_id and m.user_id = $2),
               (select w.role from ws_workspace_members w where w.workspace_id = c.workspace_id and w.user_id = $2)
          from ws_channels c where c.channel_id = $1
        """;

    public static async Task<ChannelState?> LoadAsync(NpgsqlDataSource db, string channelId, string actorId, CancellationToken ct)
    {
        if (!Ids.IsValid(channelId))
        {
            return null;
        }
        await using var cmd = db.Command(Query, channelId, actorId);
        return await Read(cmd, channelId, ct);
    }

    private static async Task<ChannelState?> Read(NpgsqlCommand cmd, string channelId, CancellationToken ct)
    {
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await Read(r, channelId, ct);
    }

    private static async Task<ChannelState?> Read(NpgsqlDataReader r, string channelId, CancellationToken ct)
    {
        if (!await r.ReadAsync(ct))
        {
            return null;
        }
        return new ChannelState(
            channelId, r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
            r.GetString(4), r.GetBoolean(5), r.GetInt64(6), r.GetBoolean(7), r.IsDBNull(8) ? null : r.GetString(8));
    }

    /// <summary>Moves the channel row to the stream's new version; every channel append calls it in its transaction.</summary>
    public static Task SetVersionAsync(NpgsqlTransaction tx, string channelId, long version, CancellationToken ct) =>
        tx.ExecuteAsync("update ws_channels set version = $2 where channel_id = $1", ct, channelId, version);
}
