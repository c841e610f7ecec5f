using System.Text.Json;
using System.Text.Json.Serialization;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Projections.History;
using EventSourcedChat.Projections.Infrastructure;
using EventSourcedChat.ReadModels.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace EventSourcedChat.ReadModels.Files;

/// <param name="Width">An image's width in pixels (absent for other files and for images that got no thumbnail).</param>
/// <param name="ThumbnailUrl">A signed URL of the image's thumbnail (WebP), expiring with <paramref name="DownloadUrl"/>.</param>
public sealed record FileView(
    string FileId, string Name, long Size, string ContentType, string Sha256, string DownloadUrl, DateTimeOffset ExpiresAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Width = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Height = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ThumbnailUrl = null);

/// <summary>
/// <c>GET /v1/files/{fileId}</c>: a file's metadata and a signed download URL, for members of a channel where a live
/// message carries it (the history projection's <c>files</c>, the directory's members). Anyone else, a member who left
/// included, gets 404 exactly as for a file that does not exist. An image's answer adds its dimensions and a signed
/// <c>thumbnailUrl</c>, under the same rule. The URL itself expires
/// (<see cref="FileSettings.DownloadUrlLifetime"/>); one handed out before leaving works until then.
/// </summary>
public static class FileQueries
{
    public static RouteGroupBuilder MapFileQueries(this RouteGroupBuilder group)
    {
        group.MapGet("/files/{fileId}", GetFileAsync).WithName("GetFile").Produces<FileView>()
            .WaitsFor(Projection.CheckpointOf(HistoryProjection.ProjectionName), ChannelAccess.Directory);
        return group;
    }

    private static async Task<IResult> GetFileAsync(
        string fileId, HttpContext http, NpgsqlDataSource db, IObjectStore objects, FileSettings settings, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select f.name, f.size, f.content_type, f.sha256, f.width, f.height, f.thumbnail::text
              from rm_history.files f
              join rm_directory.channel_members m on m.channel_id = f.channel_id and m.user_id = $2
             where f.file_id = $1
             limit 1
            """);
        cmd.Parameters.AddWithValue(fileId);
        cmd.Parameters.AddWithValue(QueryActor.UserId(http));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return QueryActor.NotFound("The file");
        }
        var (name, size, contentType, sha256) = (r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3));
        var expiresAt = DateTimeOffset.UtcNow + settings.DownloadUrlLifetime;
        var url = objects.SignDownload(fileId, new FileDownload(name, contentType), expiresAt);
        var thumbnail = r.IsDBNull(6) ? null : JsonSerializer.Deserialize<Thumbnail>(r.GetString(6), EventTypes.Json);
        var thumbnailUrl = thumbnail is null ? null
            : objects.SignDownload(thumbnail.ObjectId, new FileDownload(Thumbnails.NameFor(name, thumbnail), thumbnail.ContentType), expiresAt);
        return Results.Ok(new FileView(fileId, name, size, contentType, sha256, url, expiresAt,
            r.IsDBNull(4) ? null : r.GetInt32(4), r.IsDBNull(5) ? null : r.GetInt32(5), thumbnailUrl));
    }
}
