using EventSourcedChat.Commands.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Commands.Channels;

public static partial class ChannelWriteSide
{
    /// <summary>
    /// The channels of the workspace (DMs included) that the user is a member of, from <c>ws_channel_members</c>: what a
    /// removal from the workspace ends, one channel command each.
    /// </summary>
    public static async Task<List<string>> ChannelsOfAsync(NpgsqlDataSource db, string workspaceId, string userId, CancellationToken ct)
    {
        await using var cmd = db.Command("""
            select m.channel_id from ws_channel_members m join ws_channels c on c.channel_id = m.channel_id
             where c.workspace_id = $1 and m.user_id = $2 order by m.channel_id
            """, workspaceId, userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var channels = new List<string>();
        while (await r.ReadAsync(ct))
        {
            channels.Add(r.GetString(0));
        }
        return channels;
    }
}
