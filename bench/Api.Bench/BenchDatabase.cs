using System.Text.Json;
using Npgsql;

namespace EventSourcedChat.ApiBench;

/// <summary>The bench's own database: reset at start, and a fast way to give a channel a long history.</summary>
internal static class BenchDatabase
{
    /// <summary>esc_apibench, or ESC_APIBENCH_DATABASE (two sessions benchmarking on one server at once).</summary>
    public static string Name { get; } = Environment.GetEnvironmentVariable("ESC_APIBENCH_DATABASE") ?? "esc_apibench";

    /// <summary>
    /// Appends <paramref name="messages"/> <c>message.posted.v1</c> events to the channel's stream with the event store's own
    /// <c>es_append</c> (so versions, positions and the hash chain are exactly what the API would write), in batches,
    /// each batch in one transaction with the write-side rows the API keeps beside it (<c>ws_messages</c>,
    /// <c>ws_channels.version</c>). The events are built in SQL: nothing but the batch call crosses the wire.
    /// </summary>
    public static async Task FillChannelAsync(
        NpgsqlDataSource db, string channelId, string authorId, long messages, int batch, Action<long>? progress = null)
    {
        var stream = $"channel-{channelId}";
        var metadata = JsonSerializer.Serialize(new { actor = authorId, correlationId = "apibench-fill", causationId = (string?)null, at = DateTime.UtcNow });
        long version;
        await using (var cmd = db.CreateCommand("select version from ws_channels where channel_id = $1"))
        {
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channelId });
            version = (long)(await cmd.ExecuteScalarAsync())!;
        }
        for (long done = 0; done < messages;)
        {
            var n = (int)Math.Min(batch, messages - done);
            await using var conn = await db.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            await using (var append = new NpgsqlCommand("""
                select out_version from es_append($1, $2,
                    array(select gen_random_uuid() from generate_series(1, $3)),
                    array_fill('message.posted.v1'::text, array[$3]),
                    array(select jsonb_build_object(
                                 'channelId', $4::text, 'messageId', replace(gen_random_uuid()::text, '-', ''), 'userId', $5::text,
                                 'text', 'history message ' || ($2 + g), 'threadRootSeq', null,
                                 'mentions', jsonb_build_object('userIds', '[]'::jsonb, 'channel', false, 'here', false))
                            from generate_series(1, $3) g order by g),
                    array_fill($6::jsonb, array[$3]),
                    now())
                """, conn, tx))
            {
                append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
                append.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version });
                append.Parameters.Add(new NpgsqlParameter<int> { TypedValue = n });
                append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channelId });
                append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = authorId });
                append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = metadata });
                var newVersion = (long)(await append.ExecuteScalarAsync())!;
                if (newVersion != version + n)
                {
                    throw new InvalidOperationException($"es_append answered version {newVersion}, expected {version + n}.");
                }
            }
            await using (var rows = new NpgsqlCommand(
                "insert into ws_messages (channel_id, seq, author_id) select $1, s, $2 from generate_series($3 + 1, $3 + $4) s", conn, tx))
            {
                rows.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channelId });
                rows.Parameters.Add(new NpgsqlParameter<string> { TypedValue = authorId });
                rows.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version });
                rows.Parameters.Add(new NpgsqlParameter<long> { TypedValue = n });
                await rows.ExecuteNonQueryAsync();
            }
            await using (var channel = new NpgsqlCommand("update ws_channels set version = $2 where channel_id = $1", conn, tx))
            {
                channel.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channelId });
                channel.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version + n });
                await channel.ExecuteNonQueryAsync();
            }
            await tx.CommitAsync();
            version += n;
            done += n;
            progress?.Invoke(done);
        }
    }

    /// <summary>
    /// Checks the channel as the API leaves it: stream version = <c>ws_channels.version</c>, one <c>ws_messages</c> row per
    /// posted event, versions 1..n without gaps, and every event's hash and link to the previous one.
    /// </summary>
    public static async Task<string> VerifyChannelAsync(NpgsqlDataSource db, string channelId)
    {
        await using var cmd = db.CreateCommand("""
            with e as (
                select version, hash, prev_hash,
                       hash = es_event_hash(prev_hash, stream_id, version, event_id, type, data, metadata, created_at) as hash_ok,
                       prev_hash = coalesce(lag(hash) over (order by version), decode(repeat('00', 32), 'hex')) as link_ok
                  from es_events where stream_id = 'channel-' || $1)
            select (select version from es_streams where stream_id = 'channel-' || $1),
                   (select version from ws_channels where channel_id = $1),
                   (select count(*) from ws_messages where channel_id = $1),
                   (select count(*) from e), (select max(version) from e),
                   (select count(*) from e where not hash_ok or not link_ok)
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channelId });
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        var (stream, channel, rows, events, max, bad) = (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5));
        if (stream != channel || events != stream || max != stream || bad != 0)
        {
            throw new InvalidOperationException(
                $"channel {channelId} is inconsistent: stream version {stream}, ws_channels.version {channel}, events {events}, max version {max}, bad hashes {bad}.");
        }
        return $"stream version {stream} = ws_channels.version, {rows} ws_messages rows, hash chain intact";
    }

    /// <summary>What autovacuum would do after a bulk load: fresh statistics and visibility map.</summary>
    public static async Task VacuumAnalyzeAsync(NpgsqlDataSource db)
    {
        await using var cmd = db.CreateCommand("vacuum analyze es_events, es_streams, ws_messages, ws_channels, ws_channel_members");
        cmd.CommandTimeout = 600;
        await cmd.ExecuteNonQueryAsync();
    }
}
