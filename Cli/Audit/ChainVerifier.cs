using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedChat.Contracts.Events;

namespace EventSourcedChat.Cli.Audit;

/// <summary>The result of checking a chain: the events read and the first seq whose hash, link or number is wrong.</summary>
public sealed record ChainResult(bool Ok, long Events, long? FirstBadSeq, string? Problem);

/// <summary>
/// Verifies an NDJSON audit export offline, computing each hash as the event store does when it appends (and when the
/// server's verify recomputes a chain):
/// <c>sha256(prevHash || utf8(stream, seq, eventId, type, data, metadata, createdAt in µs since 1970, joined by U+001F))</c>,
/// where <c>data</c> and <c>metadata</c> are the exported JSON text exactly. Checks that seqs follow one another, that each
/// <c>prevHash</c> is the previous line's <c>hash</c> (32 zero bytes before seq 1; an export that starts later is
/// anchored at its first <c>prevHash</c>) and that every hash recomputes.
/// </summary>
public static class ChainVerifier
{
    private static readonly string Zero = new('0', 64);

    /// <param name="stream">The stream id (<c>channel-{id}</c>); taken from the first event's <c>data.channelId</c> when null.</param>
    /// <param name="progress">Called with the bytes read so far, now and then.</param>
    public static async Task<ChainResult> VerifyAsync(Stream ndjson, string? stream, Action<long>? progress, CancellationToken ct)
    {
        using var reader = new StreamReader(ndjson, Encoding.UTF8);
        long events = 0, expectedSeq = 0, bytes = 0;
        string? previousHash = null;
        long? firstBad = null;
        string? problem = null;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            bytes += Encoding.UTF8.GetByteCount(line) + 1;
            if (line.Length == 0)
            {
                continue;
            }
            events++;
            if (events % 10_000 == 0)
            {
                progress?.Invoke(bytes);
            }
            if (firstBad is not null)
            {
                continue;
            }
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            var seq = e.GetProperty("seq").GetInt64();
            stream ??= StreamNames.Channel(e.GetProperty("data").GetProperty("channelId").GetString()!);
            var prevHash = e.GetProperty("prevHash").GetString()!;
            var fail = (string? why) => { (firstBad, problem) = (seq, why); };
            if (events > 1 && seq != expectedSeq)
            {
                fail($"seq {seq} follows {expectedSeq - 1}");
            }
            else if (previousHash is not null ? prevHash != previousHash : seq == 1 && prevHash != Zero)
            {
                fail($"prevHash of seq {seq} is not the hash of the event before it");
            }
            else if (Hash(stream, e, prevHash) != e.GetProperty("hash").GetString())
            {
                fail($"the hash of seq {seq} does not match its content");
            }
            expectedSeq = seq + 1;
            previousHash = e.GetProperty("hash").GetString();
        }
        progress?.Invoke(bytes);
        return new ChainResult(firstBad is null, events, firstBad, problem);
    }

    private static string Hash(string stream, JsonElement e, string prevHashHex)
    {
        var createdAt = e.GetProperty("createdAt").GetDateTimeOffset();
        var micros = (createdAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        var text = string.Join('\u001f',
            stream,
            e.GetProperty("seq").GetInt64().ToString(CultureInfo.InvariantCulture),
            e.GetProperty("eventId").GetGuid().ToString("D"),
            e.GetProperty("type").GetString(),
            e.GetProperty("data").GetRawText(),
            e.GetProperty("metadata").GetRawText(),
            micros.ToString(CultureInfo.InvariantCulture));
        var prev = Convert.FromHexString(prevHashHex);
        var content = Encoding.UTF8.GetBytes(text);
        var input = new byte[prev.Length + content.Length];
        prev.CopyTo(input, 0);
        content.CopyTo(input, prev.Length);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }
}
