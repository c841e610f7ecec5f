using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Events;
using Npgsql;

namespace EventSourcedChat.Commands.Files;

/// <summary>
/// The <c>files</c> of a post: each one a file its author uploaded (bytes received) in the channel's workspace. A file
/// may be shared again, in another message or channel of that workspace, by whoever uploaded it.
/// </summary>
public static class AttachFiles
{
    /// <summary>The files as the post carries them, in the order asked; null when the post names none.</summary>
    public static IReadOnlyList<SharedFile>? Decide(
        IReadOnlyList<string>? requested, IReadOnlyList<FileRow> loaded, string workspaceId, string actorId, int maxFiles)
    {
        if (requested is null or { Count: 0 })
        {
            return null;
        }
        if (requested.Count > maxFiles)
        {
            throw CommandRejected.Invalid($"A message carries at most {maxFiles} files.");
        }
        if (requested.Distinct(StringComparer.Ordinal).Count() != requested.Count)
        {
            throw CommandRejected.Invalid("files names a file more than once.");
        }
        var byId = loaded.ToDictionary(f => f.FileId, StringComparer.Ordinal);
        return
        [
            .. requested.Select(id => byId.GetValueOrDefault(id ?? "") is { Uploaded: true, Sha256: { } sha } f
                                      && f.UploaderId == actorId && f.WorkspaceId == workspaceId
                ? new SharedFile(f.FileId, f.Name, f.Size, f.ContentType, sha, f.Image?.Width, f.Image?.Height, f.Image?.Thumbnail)
                // Whatever the reason (unknown, someone else's, another workspace's, bytes not there yet), the same answer.
                : throw CommandRejected.Invalid($"files: {Cut(id)} is not a file you uploaded to this workspace.")),
        ];
    }

    /// <summary>The ids a post names, for loading: only well-formed ones can exist.</summary>
    public static string[] Wanted(IReadOnlyList<string>? requested) => requested is null ? [] : [.. requested.Where(Ids.IsValid).Distinct()];

    /// <summary>In the posts' transaction: marks the files attached (never swept), or refuses the posts if one was swept or released meanwhile.</summary>
    public static async Task ApplyAsync(NpgsqlTransaction tx, IReadOnlyList<SharedFile> files, CancellationToken ct)
    {
        var ids = files.Select(f => f.FileId).ToArray();
        if (await FileTable.AttachAsync(tx, ids, ct) != ids.Distinct(StringComparer.Ordinal).Count())
        {
            throw CommandRejected.Invalid("A file of the message expired or was deleted before it was posted; upload it again.");
        }
    }

    private static string Cut(string? id) => id is null ? "null" : id.Length > 40 ? id[..40] + "…" : id;
}
