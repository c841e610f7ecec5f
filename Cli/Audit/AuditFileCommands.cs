using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedChat.Cli.Api;
using EventSourcedChat.Contracts.Events;
using Spectre.Console;

namespace EventSourcedChat.Cli.Audit;

/// <summary>What checking downloaded files against an export found: matching, changed on disk, and absent.</summary>
public sealed record FilesResult(int Matching, IReadOnlyList<string> Tampered, IReadOnlyList<string> Missing)
{
    public bool Ok => Tampered.Count == 0;
}

/// <summary>
/// The files of an audit export: downloaded next to it from the export's signed URLs (<c>audit export --files DIR</c>),
/// and checked against the SHA-256 in the hashed <c>data</c> of the posts that carried them (<c>audit verify --file F
/// --files DIR</c>). Each file is <c>DIR/{fileId}</c>.
/// </summary>
public static class AuditFileCommands
{
    private static readonly string Posted = EventTypes.StoredTypeOf(typeof(MessagePosted));

    /// <summary>
    /// Downloads every file the export lists (each once) into <paramref name="directory"/>. A relative URL (the embedded
    /// store) is the API's origin and goes through its client; an absolute one (S3) goes without the bearer token: the
    /// signed URL is the grant, and S3 refuses a second credential. Answers how many were written; a file the store no
    /// longer has (deleted with its message after the delay) is reported and skipped.
    /// </summary>
    public static async Task<int> DownloadAsync(ChatApi api, IAnsiConsole console, string exportPath, string directory, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        using var elsewhere = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var done = new HashSet<string>(StringComparer.Ordinal);
        var written = 0;
        await foreach (var line in LinesAsync(exportPath, ct))
        {
            if (!line.TryGetProperty("files", out var files))
            {
                continue;
            }
            foreach (var f in files.EnumerateArray())
            {
                var fileId = f.GetProperty("fileId").GetString()!;
                if (!IsFileId(fileId) || !done.Add(fileId))
                {
                    continue;
                }
                // Not UriKind.RelativeOrAbsolute: on Unix it takes "/v1/objects/..." for an absolute file: URI.
                var raw = f.GetProperty("downloadUrl").GetString()!;
                var absolute = Uri.TryCreate(raw, UriKind.Absolute, out var other) && other.Scheme is "http" or "https";
                using var response = await (absolute ? elsewhere : api.Http)
                    .GetAsync(absolute ? other! : new Uri(raw, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, ct);
                if (!response.IsSuccessStatusCode)
                {
                    console.MarkupLineInterpolated($"[yellow]not downloaded[/]: {fileId} ({f.GetProperty("name").GetString()}): {(int)response.StatusCode}");
                    continue;
                }
                var target = Path.Combine(directory, fileId);
                var partial = target + ".part";
                await using (var body = await response.Content.ReadAsStreamAsync(ct))
                await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    await body.CopyToAsync(file, ct);
                }
                File.Move(partial, target, overwrite: true);
                written++;
            }
        }
        console.MarkupLineInterpolated($"downloaded {written} files to {directory}");
        return written;
    }

    /// <summary>
    /// Checks each file a post of the export carried against the SHA-256 in that post's <c>data</c> (covered by the hash
    /// chain): a file whose bytes differ is tampered, one not in <paramref name="directory"/> is missing.
    /// </summary>
    public static async Task<FilesResult> VerifyAsync(IAnsiConsole console, string exportPath, string directory, CancellationToken ct)
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var line in LinesAsync(exportPath, ct))
        {
            if (line.GetProperty("type").GetString() == Posted && line.GetProperty("data").TryGetProperty("files", out var files)
                && files.ValueKind == JsonValueKind.Array)
            {
                foreach (var f in files.EnumerateArray())
                {
                    expected.TryAdd(f.GetProperty("fileId").GetString()!, f.GetProperty("sha256").GetString()!);
                }
            }
        }
        var (matching, tampered, missing) = (0, new List<string>(), new List<string>());
        foreach (var (fileId, sha256) in expected)
        {
            var path = Path.Combine(directory, fileId);
            if (!IsFileId(fileId) || !File.Exists(path))
            {
                missing.Add(fileId);
                continue;
            }
            await using var file = File.OpenRead(path);
            if (Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct)) == sha256)
            {
                matching++;
            }
            else
            {
                tampered.Add(fileId);
            }
        }
        foreach (var fileId in tampered)
        {
            console.MarkupLineInterpolated($"[red]tampered[/]: {fileId}: its SHA-256 is not the one in the chain");
        }
        foreach (var fileId in missing)
        {
            console.MarkupLineInterpolated($"[yellow]missing[/]: {fileId}: not in {directory}");
        }
        console.MarkupLineInterpolated($"files: {matching} match the chain, {tampered.Count} tampered, {missing.Count} missing");
        return new FilesResult(matching, tampered, missing);
    }

    /// <summary>Only well-formed ids name a file: an export line cannot point outside the directory.</summary>
    private static bool IsFileId(string id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    private static async IAsyncEnumerable<JsonElement> LinesAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length > 0)
            {
                using var doc = JsonDocument.Parse(line);
                yield return doc.RootElement.Clone();
            }
        }
    }
}
