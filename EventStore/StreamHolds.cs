using Npgsql;
using NpgsqlTypes;

namespace EventSourcedChat.EventStore;

/// <summary>
/// Holds on streams (legal holds): while a stream is held the database rejects (SQLSTATE <c>ES423</c>) any delete or
/// update of its events. Placed and lifted inside the caller's transaction, so a hold moves with the caller's append.
/// </summary>
public static class StreamHolds
{
    /// <summary>
    /// Places a hold on a stream inside the caller's transaction: from its commit until <see cref="LiftAsync"/>, the
    /// database rejects any delete or update of the stream's events. Waits for deletes of the stream already under way.
    /// True when the stream was not held before.
    /// </summary>
    public static async Task<bool> PlaceAsync(NpgsqlTransaction tx, string stream, string? reason, CancellationToken ct = default)
    {
        await using (var lockHold = new NpgsqlCommand("select es_lock_for_hold($1)", tx.Connection, tx))
        {
            lockHold.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
            await lockHold.ExecuteNonQueryAsync(ct);
        }
        await using var cmd = new NpgsqlCommand(
            "insert into es_stream_holds (stream_id, reason) values ($1, $2) on conflict (stream_id) do nothing", tx.Connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Lifts a stream's hold inside the caller's transaction. True when it was held.</summary>
    public static async Task<bool> LiftAsync(NpgsqlTransaction tx, string stream, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand("delete from es_stream_holds where stream_id = $1", tx.Connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// A statement answering one row with one boolean column: whether the stream is held. For a caller that reads it in
    /// the same round trip (an <see cref="NpgsqlBatch"/>) as its own state.
    /// </summary>
    public static NpgsqlBatchCommand IsHeld(string stream)
    {
        var command = new NpgsqlBatchCommand("select exists (select 1 from es_stream_holds h where h.stream_id = $1)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        return command;
    }
}
