using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Contracts.Files;

namespace EventSourcedChat.Commands.Profiles;

/// <summary>
/// Which file may become an avatar (docs/profiles.md): an image (PNG, JPEG, GIF or WebP found in its bytes) that the
/// caller uploaded and completed. Anything else (unknown, someone else's, not uploaded yet, swept, another type) is 400
/// <c>invalid_request</c>, the same answer for every reason, as for a post's files.
/// </summary>
public static class AvatarRules
{
    private const string NotYours = "avatarFileId names no image you uploaded: upload a PNG, JPEG, GIF or WebP image (POST /v1/files, its upload, its completion), then give its fileId; \"\" removes the avatar.";

    /// <summary>The upload that becomes the avatar, judged for <paramref name="actorId"/>.</summary>
    public static FileRow Source(FileRow? file, string actorId) =>
        file is { Uploaded: true, Sha256: not null } f && f.UploaderId == actorId && FileTypes.ShowsInline(f.ContentType)
            ? f
            : throw CommandRejected.Invalid(NotYours);

    /// <summary>The command names a file and no avatar was made of it: refused (the endpoint makes it before deciding).</summary>
    public static void Check(string? avatarFileId, AvatarFacts? avatar)
    {
        if (avatarFileId is { Length: > 0 } id && avatar?.FileId != id)
        {
            throw CommandRejected.Invalid(NotYours);
        }
    }

    /// <summary>The image's bytes could not be made into an avatar (undecodable, too large, too many pixels).</summary>
    public static CommandRejected Unreadable() =>
        CommandRejected.Invalid("The avatar's file could not be read as an image (a corrupt or truncated file, or one too large): upload another.");
}
