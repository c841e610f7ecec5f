using EventSourcedChat.Contracts.Files;
using Npgsql;

namespace EventSourcedChat.Commands.Files;

/// <summary>What an object store reports when a pending upload's bytes arrived (<see cref="IFileUploads"/>).</summary>
public sealed class FileUploads(NpgsqlDataSource db) : IFileUploads
{
    public Task<bool> CompleteAsync(string fileId, long size, string sha256, string contentType, CancellationToken ct) =>
        FileTable.CompleteAsync(db, fileId, size, sha256, contentType, ct);
}
