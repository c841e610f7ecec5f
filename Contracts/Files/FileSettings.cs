namespace EventSourcedChat.Contracts.Files;

/// <summary>Limits and lifetimes of files (configuration section <c>Files</c>); the defaults suit a small team.</summary>
public sealed record FileSettings
{
    public const string Section = "Files";

    /// <summary>The largest file accepted (413 <c>payload_too_large</c> when asking for an upload of more).</summary>
    public long MaxFileBytes { get; init; } = 100L * 1024 * 1024;

    /// <summary>What a workspace may hold, uploads still pending included (413 <c>quota_exceeded</c> beyond it).</summary>
    public long WorkspaceQuotaBytes { get; init; } = 10L * 1024 * 1024 * 1024;

    /// <summary>How many files one message may carry.</summary>
    public int MaxFilesPerMessage { get; init; } = 10;

    public TimeSpan UploadUrlLifetime { get; init; } = TimeSpan.FromMinutes(15);

    public TimeSpan DownloadUrlLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the download URLs of an audit export stay valid, from the export's start.</summary>
    public TimeSpan AuditUrlLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A file not attached to any message within this time is swept (its row and its bytes).</summary>
    public TimeSpan UnattachedLifetime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How often the sweep of files never attached, and the deletion of deleted messages' files, run.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long after the last message carrying a file was deleted its bytes are deleted from the store (unless a channel
    /// it was shared in is on legal hold): the time to undo a mistake or place a hold.
    /// </summary>
    public TimeSpan DeleteDelay { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The longest side of an image's thumbnail, in pixels (the other keeps the aspect; smaller images keep their size).</summary>
    public int ThumbnailMaxSide { get; init; } = 360;

    /// <summary>
    /// The most pixels an image's header may declare for it to be decoded (a decompression bomb declares far more than its
    /// bytes suggest): beyond it the image gets no thumbnail and no dimensions, and is still shared as a file.
    /// </summary>
    public long ThumbnailMaxPixels { get; init; } = 50_000_000;

    /// <summary>The largest image, in bytes, that is read to make a thumbnail (larger ones get none).</summary>
    public long ThumbnailMaxSourceBytes { get; init; } = 50L * 1024 * 1024;

    /// <summary>
    /// How long avatar URLs stay valid: each answer signs them to the end of the next whole window of this length (so
    /// between one and two lifetimes), and the same URL is given out for a whole window.
    /// </summary>
    public TimeSpan AvatarUrlLifetime { get; init; } = TimeSpan.FromHours(1);
}
