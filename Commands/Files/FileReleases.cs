using EventSourcedChat.Contracts.Files;
using Npgsql;

namespace EventSourcedChat.Commands.Files;

/// <summary>Lets a file whose every message was deleted go (<see cref="IFileReleases"/>), through <see cref="FileTable.ReleaseAsync"/>.</summary>
public sealed class FileReleases(NpgsqlDataSource db) : IFileReleases
{
    public Task<FileRelease> ReleaseAsync(string fileId, int attachments, CancellationToken ct) =>
        FileTable.ReleaseAsync(db, fileId, attachments, ct);
}
