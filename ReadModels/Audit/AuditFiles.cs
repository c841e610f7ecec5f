using System.Text.Json;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.EventStore;

namespace EventSourcedChat.ReadModels.Audit;

/// <summary>
/// The <c>files</c> of an export line: for a post that carried files, each one with its SHA-256 (as in the event's
/// hashed <c>data</c>) and a download URL signed by the object store, valid <see cref="FileSettings.AuditUrlLifetime"/>
/// from the export's start. The line's <c>data</c> is unchanged; <c>files</c> sits beside it, outside what the hash
/// covers, so <c>chatctl audit verify --files</c> checks downloaded bytes against the hashes in <c>data</c>, never
/// against this list. The URLs are given for deleted messages too (auditors see what was shared); a file whose bytes
/// were deleted answers 404 at its URL.
/// </summary>
public sealed class AuditFiles(IObjectStore objects, DateTimeOffset expiresAt)
{
    private static readonly string Posted = EventTypes.StoredTypeOf(typeof(MessagePosted));

    public static AuditFiles For(IObjectStore objects, FileSettings settings) => new(objects, DateTimeOffset.UtcNow + settings.AuditUrlLifetime);

    /// <summary>Writes <c>"files": [...]</c> into the open line object when the event is a post carrying files.</summary>
    public void Write(Utf8JsonWriter json, RecordedEvent e)
    {
        if (e.Type != Posted || !e.Data.Contains("\"files\"", StringComparison.Ordinal)
            || EventTypes.Deserialize(e.Type, e.Data) is not MessagePosted { Files: { Count: > 0 } files })
        {
            return;
        }
        json.WriteStartArray("files");
        foreach (var f in files)
        {
            json.WriteStartObject();
            json.WriteString("fileId", f.FileId);
            json.WriteString("name", f.Name);
            json.WriteNumber("size", f.Size);
            json.WriteString("contentType", f.ContentType);
            json.WriteString("sha256", f.Sha256);
            json.WriteString("downloadUrl", objects.SignDownload(f.FileId, new FileDownload(f.Name, f.ContentType), expiresAt));
            json.WriteString("expiresAt", expiresAt);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
