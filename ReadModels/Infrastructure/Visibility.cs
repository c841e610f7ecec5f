using Npgsql;
using EventSourcedChat.Projections.Directory;
using EventSourcedChat.Projections.Infrastructure;

namespace EventSourcedChat.ReadModels.Infrastructure;

/// <summary>What the caller may see of a channel, from the directory projection (invariant 8).</summary>
public sealed record ChannelAccess(string ChannelId, string WorkspaceId, string Kind, bool IsMember)
{
    public static readonly string Directory = Projection.CheckpointOf(DirectoryProjection.ProjectionName);

    /// <summary>
    /// The caller's access to a channel, or null when they may not see it: private channels and DMs for their members
    /// only, public channels for the members of their workspace, and nothing for anyone outside the channel's workspace
    /// (a removed member). Null reads exactly as "does not exist".
    /// </summary>
    public static async Task<ChannelAccess?> ForAsync(NpgsqlDataSource db, string channelId, string userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select c.workspace_id, c.kind,
                   exists (select 1 from rm_directory.channel_members m where m.channel_id = c.channel_id and m.user_id = $2),
                   exists (select 1 from rm_directory.workspace_members w where w.workspace_id = c.workspace_id and w.user_id = $2)
              from rm_directory.channels c where c.channel_id = $1
            """);
        cmd.Parameters.AddWithValue(channelId);
        cmd.Parameters.AddWithValue(userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }
        var (workspaceId, kind, isMember, inWorkspace) = (r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetBoolean(3));
        // A member removed from the workspace sees none of its channels, even one whose member.left is still to come.
        var visible = inWorkspace && (kind == "public" || isMember);
        return visible ? new ChannelAccess(channelId, workspaceId, kind, isMember) : null;
    }
}
