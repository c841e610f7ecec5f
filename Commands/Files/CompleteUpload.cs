using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Files;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.Commands.Files;

/// <summary>What completing an upload does next, decided from the upload's row.</summary>
public enum CompletionStep { TakeBytes, AlreadyUploaded }

/// <summary>
/// <c>POST /v1/files/{fileId}/complete</c>: the uploader says the bytes are at the store. The store checks them (S3: their
/// size, then it fixes and reads them back for their SHA-256 and type) and the upload is recorded, as the embedded
/// store's <c>PUT</c> records it on arrival. One flow for clients whatever the store: ask, upload, complete. Idempotent:
/// completing again answers the same; bytes uploaded again after completion are discarded (409 <c>conflict</c>).
/// Appends no event, like asking for the upload.
/// </summary>
public static class CompleteUploadEndpoint
{
    /// <summary>Whose upload it is and where it stands: only its uploader may complete it, anyone else gets 404.</summary>
    public static CompletionStep Decide(FileRow? file, string actorId) => file switch
    {
        null => throw CommandRejected.NotFound("The file"),
        { } other when other.UploaderId != actorId => throw CommandRejected.NotFound("The file"),
        { Uploaded: true } => CompletionStep.AlreadyUploaded,
        _ => CompletionStep.TakeBytes,
    };

    /// <summary>What the store found, judged against the size asked for: the bytes, or a rejection.</summary>
    public static UploadReceipt Judge(UploadReceipt receipt, long size) => receipt.Outcome switch
    {
        UploadOutcome.None => throw CommandRejected.Invalid("No bytes were uploaded for this file yet: send them to its upload URL, then complete."),
        UploadOutcome.WrongSize when receipt.Size > size =>
            throw new CommandRejected(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, $"This upload takes exactly {size} bytes; {receipt.Size} came."),
        UploadOutcome.WrongSize => throw CommandRejected.Invalid($"This upload takes exactly {size} bytes; {receipt.Size} came."),
        _ => receipt,
    };

    public static RouteGroupBuilder MapCompleteUpload(this RouteGroupBuilder group)
    {
        group.MapPost("/files/{fileId}/complete", Handle).WithName("CompleteUpload");
        return group;
    }

    private static async Task<Ok<UploadedObject>> Handle(
        string fileId, HttpContext http, NpgsqlDataSource db, IObjectStore objects, IFileUploads uploads, CancellationToken ct)
    {
        var actor = Actor.From(http);
        if (!Ids.IsValid(fileId))
        {
            throw CommandRejected.NotFound("The file");
        }
        await using var held = await FileTable.TryLockCompletionAsync(db, fileId, ct)
            ?? throw CommandRejected.Conflict(ErrorCodes.Conflict, "This upload is being completed by another request; try again.");
        var file = (await FileTable.LoadAsync(db, [fileId], ct)).SingleOrDefault();
        if (Decide(file, actor.UserId) == CompletionStep.AlreadyUploaded)
        {
            if (await objects.DiscardUploadAsync(fileId, ct))
            {
                throw CommandRejected.Conflict(ErrorCodes.Conflict, "This file's bytes were already uploaded; the second upload is discarded.");
            }
            return TypedResults.Ok(new UploadedObject(fileId, file!.Size, file.Sha256!, file.ContentType));
        }
        var received = Judge(await objects.TakeUploadAsync(fileId, file!.Size, ct), file.Size);
        if (!await uploads.CompleteAsync(fileId, received.Size, received.Sha256, received.ContentType, ct))
        {
            await objects.DeleteFileAsync(fileId, ct); // expired or swept while its bytes were checked
            throw CommandRejected.NotFound("The file");
        }
        return TypedResults.Ok(new UploadedObject(fileId, received.Size, received.Sha256, received.ContentType));
    }
}
