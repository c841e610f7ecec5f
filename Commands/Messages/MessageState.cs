using EventSourcedChat.Commands.Infrastructure;
using Npgsql;

namespace EventSourcedChat.Commands.Messages;

/// <summary>One message as decisions need it: author, thread and tombstone, from write-side state.</summary>
public sealed record MessageState(long Seq, string AuthorId, long? ThreadRootSeq, bool Deleted)
{
    public bool IsTopLevel => ThreadRootSeq is null;

    public static async Task<MessageState?> LoadAsync(NpgsqlDataSource db, string channelId, long seq, CancellationToken ct)
    {
        await using var cmd = db.Command(
            "select author_id, thread_root_seq, deleted from ws_messages where channel_id = $1 and seq = $2", channelId, seq);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new MessageState(seq, r.GetString(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.GetBoolean(2))
            : null;
    }
}
