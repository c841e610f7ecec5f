using EventSourcedChat.Contracts.Files;
using Npgsql;

namespace EventSourcedChat.Commands.Files;

/// <summary>
/// What an object store reports when a pending upload's bytes arrived (<see cref="IFileUploads"/>): an image (PNG, JPEG,
/// GIF, WebP found in its bytes) first gets its dimensions and thumbnail, made from the stored bytes, then the upload is
/// recorded with them, so every post that attaches the file carries them. A bad image gets none and is recorded all the
/// same; a thumbnail made for an upload that is no longer waiting is deleted again.
/// </summary>
public sealed class FileUploads(NpgsqlDataSource db, IImageThumbnails thumbnails, IObjectStore objects) : IFileUploads
{
    public async Task<bool> CompleteAsync(string fileId, long size, string sha256, string contentType, CancellationToken ct)
    {
        var image = FileTypes.ShowsInline(contentType) ? await thumbnails.MakeAsync(fileId, contentType, size, ct) : null;
        if (await FileTable.CompleteAsync(db, fileId, size, sha256, contentType, image, ct))
        {
            return true;
        }
        if (image is not null)
        {
            await objects.DeleteAsync(image.Thumbnail.ObjectId, ct);
        }
        return false;
    }
}
