using System.Buffers;
using System.Text.Json;
using Npgsql;

namespace EventSourcedChat.ReadModels.Audit;

/// <summary>
/// Writes a channel stream's raw events as NDJSON, one object per line:
/// <c>{seq, position, eventId, type, data, metadata, hash, prevHash, createdAt}</c> (hashes in lowercase hex; <c>data</c> and
/// <c>metadata</c> exactly as the hash covers them, so a file can be verified offline). Reads keyset pages
/// of the <c>(stream_id, version)</c> index and writes each page out before reading the next, so memory stays
/// constant whatever the channel's length.
/// </summary>
public static class AuditExport
{
    public const int PageSize = 2_000;
    private const int FlushBytes = 256 * 1024;

    private const string Page = """
        select version, position, event_id, type, data::text, metadata::text, hash, prev_hash, created_at
          from es_events
         where stream_id = $1 and version >= $2 and version <= $3
         order by version
         limit $4
        """;

    /// <summary>Writes the events with seq in <paramref name="fromSeq"/>..<paramref name="toSeq"/> (inclusive).</summary>
    public static async Task WriteAsync(NpgsqlDataSource db, string stream, long fromSeq, long toSeq, Stream output, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(FlushBytes * 2);
        await using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(Page, conn);
        var from = new NpgsqlParameter<long> { TypedValue = fromSeq };
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        cmd.Parameters.Add(from);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = toSeq });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = PageSize });
        await cmd.PrepareAsync(ct);
        while (from.TypedValue <= toSeq)
        {
            var rows = 0;
            await using (var r = await cmd.ExecuteReaderAsync(ct))
            {
                while (await r.ReadAsync(ct))
                {
                    rows++;
                    from.TypedValue = r.GetInt64(0) + 1;
                    json.WriteStartObject();
                    json.WriteNumber("seq", r.GetInt64(0));
                    json.WriteNumber("position", r.GetInt64(1));
                    json.WriteString("eventId", r.GetGuid(2));
                    json.WriteString("type", r.GetString(3));
                    json.WritePropertyName("data");
                    json.WriteRawValue(r.GetString(4), skipInputValidation: true);
                    json.WritePropertyName("metadata");
                    json.WriteRawValue(r.GetString(5), skipInputValidation: true);
                    json.WriteString("hash", Convert.ToHexStringLower(r.GetFieldValue<byte[]>(6)));
                    json.WriteString("prevHash", Convert.ToHexStringLower(r.GetFieldValue<byte[]>(7)));
                    json.WriteString("createdAt", r.GetFieldValue<DateTimeOffset>(8));
                    json.WriteEndObject();
                    await json.FlushAsync(ct);
                    buffer.Write("\n"u8);
                    json.Reset(buffer);
                    if (buffer.WrittenCount >= FlushBytes)
                    {
                        await output.WriteAsync(buffer.WrittenMemory, ct);
                        buffer.ResetWrittenCount();
                    }
                }
            }
            if (rows < PageSize)
            {
                break;
            }
        }
        await output.WriteAsync(buffer.WrittenMemory, ct);
        await output.FlushAsync(ct);
    }
}
