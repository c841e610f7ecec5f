using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.Commands.Accounts;

/// <summary>
/// The write-side tables of user streams (<c>ws_users</c>, <c>ws_read_markers</c>): kept by <see cref="ApplyAsync"/>,
/// one case per event, mirroring <see cref="UserState.Evolve"/>.
/// </summary>
public static class UserWriteSide
{
    /// <summary>
    /// The user's stream version and their read marker in one channel. The version is read first (through the log):
    /// a marker written in between makes the append at that version conflict (and the command run again).
    /// </summary>
    public static async Task<UserState> LoadReadMarkerAsync(
        PostgresEventStore log, NpgsqlTransaction tx, string userId, string channelId, CancellationToken ct)
    {
        var version = await log.GetStreamVersionAsync(StreamNames.User(userId), ct);
        await using var cmd = new NpgsqlCommand("select seq from ws_read_markers where user_id = $1 and channel_id = $2", tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        cmd.Parameters.AddWithValue(channelId);
        var marker = await cmd.ExecuteScalarAsync(ct) is long s ? s : 0;
        return UserState.Initial with
        {
            UserId = userId, Version = version, ReadMarkers = marker > 0 ? UserState.Initial.ReadMarkers.Add(channelId, marker) : UserState.Initial.ReadMarkers,
        };
    }

    /// <summary>Whether the user registered (a workspace command that names them decides on it).</summary>
    public static async Task<bool> ExistsAsync(NpgsqlTransaction tx, string userId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select exists (select 1 from ws_users where user_id = $1)", tx.Connection, tx);
        cmd.Parameters.AddWithValue(userId);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Moves the tables by the events just appended, in one round trip.</summary>
    public static async Task ApplyAsync(NpgsqlTransaction tx, string userId, IReadOnlyList<object> events, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        foreach (var e in events)
        {
            switch (e)
            {
                case UserRegistered r:
                    batch.Add("insert into ws_users (user_id, email, display_name, password_hash) values ($1, $2, $3, $4)",
                        userId, r.Email, r.DisplayName, r.PasswordHash);
                    break;
                case ReadMarkerMoved m:
                    batch.Add("""
                        insert into ws_read_markers (user_id, channel_id, seq) values ($1, $2, $3)
                        on conflict (user_id, channel_id) do update set seq = excluded.seq
                        """, userId, m.ChannelId, m.Seq);
                    break;
                default:
                    throw new UnknownEventException("user", e);
            }
        }
        await batch.ExecuteNonQueryAsync(ct);
    }
}
