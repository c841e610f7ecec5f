namespace EventSourcedChat.Contracts.Files;

/// <summary>What the write side answers when asked to let a file go (<see cref="IFileReleases"/>).</summary>
public enum FileRelease
{
    /// <summary>The upload's record is gone now: its bytes may be deleted, and no message can attach it any more.</summary>
    Released,

    /// <summary>It was released before (a deletion that stopped between the release and the bytes): delete the bytes.</summary>
    AlreadyReleased,

    /// <summary>More messages attached it than the caller counted (one it has not seen yet): keep it.</summary>
    SharedAgain,
}

/// <summary>The write side's record of uploads, as the deletion of deleted messages' files asks it to let one go.</summary>
public interface IFileReleases
{
    /// <summary>
    /// Removes the file's upload record (freeing its share of the workspace quota; a post naming it is refused from then
    /// on) if exactly <paramref name="attachments"/> messages ever attached it: the caller saw all of them, each deleted.
    /// </summary>
    Task<FileRelease> ReleaseAsync(string fileId, int attachments, CancellationToken ct);
}
