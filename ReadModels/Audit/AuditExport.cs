using System.Buffers;
using System.Text.Json;
using EventSourcedChat.EventStore;
using Npgsql;

namespace EventSourcedChat.ReadModels.Audit;

/// <summary>
/// Writes a channel stream's raw events as NDJSON, one object per line:
/// <c>{seq, position, eventId, type, data, metadata, hash, prevHash, createdAt}</c> (hashes in lowercase hex; <c>data</c> and
/// <c>metadata</c> exactly as the hash covers them, so a file can be verified offline), and <c>files</c> on a post that
/// carried files (<see cref="AuditFiles"/>: each with its hash and a signed download URL). Reads keyset pages
/// of the <c>(stream_id, version)</c> index and writes each page out before reading the next, so memory stays
/// constant whatever the channel's length (<see cref="StreamHistoryReader.ReadRangeAsync"/>).
/// </summary>
public static class AuditExport
{
    public const int PageSize = 2_000;
    private const int FlushBytes = 256 * 1024;

    /// <summary>Writes the events with seq in <paramref name="fromSeq"/>..<paramref name="toSeq"/> (inclusive).</summary>
    public static async Task WriteAsync(
        NpgsqlDataSource db, string stream, long fromSeq, long toSeq, AuditFiles files, Stream output, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(FlushBytes * 2);
        await using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        await foreach (var e in new StreamHistoryReader(db).ReadRangeAsync(stream, fromSeq, toSeq, PageSize, ct))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", e.Version);
            json.WriteNumber("position", e.Position);
            json.WriteString("eventId", e.EventId);
            json.WriteString("type", e.Type);
            json.WritePropertyName("data");
            json.WriteRawValue(e.Data, skipInputValidation: true);
            json.WritePropertyName("metadata");
            json.WriteRawValue(e.Metadata, skipInputValidation: true);
            json.WriteString("hash", Convert.ToHexStringLower(e.Hash));
            json.WriteString("prevHash", Convert.ToHexStringLower(e.PrevHash));
            json.WriteString("createdAt", e.CreatedAt);
            files.Write(json, e);
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
        await output.WriteAsync(buffer.WrittenMemory, ct);
        await output.FlushAsync(ct);
    }
}
