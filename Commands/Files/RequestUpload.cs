using System.Text;
using System.Text.RegularExpressions;
using EventSourcedChat.Commands.Infrastructure;
using EventSourcedChat.Commands.Workspaces;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Files;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace EventSourcedChat.Commands.Files;

public sealed record RequestUpload(string? Name, long? Size, string? ContentType, string? WorkspaceId);

public sealed record UploadResponse(
    string FileId, string UploadUrl, string UploadMethod, IReadOnlyDictionary<string, string> UploadHeaders, DateTimeOffset ExpiresAt);

/// <summary>
/// <c>POST /v1/files</c>: a member of a workspace asks to upload a file and gets a signed URL for its bytes. Appends no
/// event (an upload is not a fact of any stream until a message carries it): it records the pending upload in
/// <c>ws_files</c>, under the workspace's file lock so that concurrent requests cannot pass the quota together.
/// </summary>
public static partial class RequestUploadEndpoint
{
    public const int MaxNameLength = 255;

    [GeneratedRegex(@"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")]
    private static partial Regex MediaType();

    /// <summary>The upload to record, or a rejection: not a member (404), bad fields (400), too large or over the quota (413).</summary>
    public static FileRow Decide(WorkspaceState workspace, long workspaceUsage, RequestUpload command, FileSettings limits, string fileId, string actorId)
    {
        if (!workspace.Exists || workspace.RoleOf(actorId) is null)
        {
            throw CommandRejected.NotFound("The workspace");
        }
        var name = ValidName(command.Name);
        var contentType = (command.ContentType ?? FileTypes.OctetStream).Trim().ToLowerInvariant();
        if (!MediaType().IsMatch(contentType))
        {
            throw CommandRejected.Invalid("contentType is a media type such as image/png.");
        }
        if (command.Size is not > 0)
        {
            throw CommandRejected.Invalid("size is the file's length in bytes, at least 1.");
        }
        var size = command.Size.Value;
        if (size > limits.MaxFileBytes)
        {
            throw new CommandRejected(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, $"A file has at most {limits.MaxFileBytes} bytes.");
        }
        if (workspaceUsage + size > limits.WorkspaceQuotaBytes)
        {
            throw new CommandRejected(StatusCodes.Status413PayloadTooLarge, ErrorCodes.QuotaExceeded,
                $"The workspace's files would exceed its quota of {limits.WorkspaceQuotaBytes} bytes.");
        }
        return new FileRow(fileId, workspace.WorkspaceId, actorId, name, size, contentType, null, false);
    }

    /// <summary>A file name: 1 to 255 characters of valid Unicode, no control characters, no path separators.</summary>
    public static string ValidName(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        var valid = trimmed.Length is > 0 and <= MaxNameLength && trimmed is not ("." or "..")
            && trimmed.EnumerateRunes().All(r => r != Rune.ReplacementChar && !Rune.IsControl(r) && r.Value is not ('/' or '\\'))
            && !trimmed.Contains('\uFFFD', StringComparison.Ordinal);
        return valid ? trimmed : throw CommandRejected.Invalid($"name has 1 to {MaxNameLength} characters, without control characters or slashes.");
    }

    public static RouteGroupBuilder MapRequestUpload(this RouteGroupBuilder group)
    {
        group.MapPost("/files", Handle).WithName("RequestUpload");
        return group;
    }

    private static async Task<Created<UploadResponse>> Handle(
        RequestUpload command, HttpContext http, ChatEventStore store, IObjectStore objects, FileSettings limits, CancellationToken ct)
    {
        var actor = Actor.From(http);
        var workspaceId = command.WorkspaceId ?? "";
        if (!Ids.IsValid(workspaceId))
        {
            throw CommandRejected.NotFound("The workspace");
        }
        var now = DateTimeOffset.UtcNow;
        var expiresAt = now + limits.UnattachedLifetime;
        var file = await store.InTransactionAsync(async (tx, token) =>
        {
            var usage = await FileTable.LockUsageAsync(tx, workspaceId, token);
            var workspace = await WorkspaceWriteSide.LoadAsync(tx, workspaceId, [actor.UserId], token);
            var file = Decide(workspace, usage, command, limits, Ids.New(), actor.UserId);
            await FileTable.InsertAsync(tx, file, expiresAt, token);
            return file;
        }, ct);
        var upload = objects.SignUpload(file.FileId, file.Size, Min(now + limits.UploadUrlLifetime, expiresAt));
        return TypedResults.Created($"/v1/files/{file.FileId}",
            new UploadResponse(file.FileId, upload.Url, upload.Method, upload.Headers, upload.ExpiresAt));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
