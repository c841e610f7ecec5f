using EventSourcedChat.EventStore;
using EventSourcedChat.ReadModels.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>The channels and workspaces a user receives events of, from the directory read model.</summary>
public sealed class MemberChannels(NpgsqlDataSource db, StreamSetReader log, ILogger<MemberChannels> logger)
{
    /// <summary>
    /// The user's channels and the seq they joined each at: only in the workspaces they are in (a removed member's
    /// channel memberships end with their own <c>member.left</c>; one still to come gives nothing meanwhile).
    /// </summary>
    public async Task<Dictionary<string, long>> ReadAsync(string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select m.channel_id, m.joined_seq from rm_directory.channel_members m
              join rm_directory.channels c on c.channel_id = m.channel_id
              join rm_directory.workspace_members w on w.workspace_id = c.workspace_id and w.user_id = m.user_id
             where m.user_id = $1
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var channels = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            channels[reader.GetString(0)] = reader.GetInt64(1);
        }
        return channels;
    }

    /// <summary>The user's workspaces (<c>rm_directory.workspace_members</c>): whose profile changes the connection receives.</summary>
    public async Task<List<string>> ReadWorkspacesAsync(string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select workspace_id from rm_directory.workspace_members where user_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var workspaces = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            workspaces.Add(reader.GetString(0));
        }
        return workspaces;
    }

    /// <summary>
    /// Read-your-writes for a new connection: its channels come from the directory projection, so it waits (bounded by
    /// <see cref="ReadYourWrites.MaxWait"/>) until the directory has applied the log as it stands now. Otherwise a user
    /// who joined a channel and connected at once, while the directory lagged, would get neither that channel's replay
    /// nor its live events on this connection (the <c>member.joined</c> push may have come before the connection).
    /// After the bound it goes on with the directory as it is, as a query with <c>minPosition</c> would answer 503.
    /// Answers the log's head it waited for (0 for an empty log): the position the connection starts from.
    /// </summary>
    public async Task<long> DirectoryCaughtUpAsync(CancellationToken ct)
    {
        if (await log.LastPositionAsync(ct) is not { } head)
        {
            return 0;
        }
        if (!await ReadYourWrites.CaughtUpAsync(db, head, [ChannelAccess.Directory], ct))
        {
            logger.LogWarning("The directory projection has not reached position {Head}: connecting with the channels it has", head);
        }
        return head;
    }
}
