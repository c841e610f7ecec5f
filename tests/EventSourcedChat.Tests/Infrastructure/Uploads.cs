using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The upload flow as a client runs it, the same for every object store: ask for an upload, send the bytes to the URL
/// it got, as told, then complete the upload (<c>POST /v1/files/{fileId}/complete</c>).
/// </summary>
public static class Uploads
{
    /// <summary>Asks (201), uploads (2xx) and completes (200); answers the file id and the completion's answer.</summary>
    public static async Task<(string FileId, JsonElement Uploaded)> UploadAsync(
        TestUser user, HttpClient store, string workspaceId, byte[] bytes, string name = "notes.txt", string contentType = "text/plain")
    {
        var asked = await user.Ok("POST", "/v1/files", new { name, size = bytes.Length, contentType, workspaceId }, HttpStatusCode.Created);
        using var response = await SendAndCompleteAsync(user, store, asked, new ByteArrayContent(bytes));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"upload: {(int)response.StatusCode} {text}");
        return (asked.GetProperty("fileId").GetString()!, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>
    /// Sends <paramref name="content"/> to the upload URL of <paramref name="asked"/> and, when the store accepted it,
    /// completes the upload: answers the store's refusal, or the completion's answer.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAndCompleteAsync(TestUser user, HttpClient store, JsonElement asked, HttpContent content)
    {
        using (var sent = await SendAsync(store, asked, content))
        {
            if (!sent.IsSuccessStatusCode)
            {
                var body = await sent.Content.ReadAsByteArrayAsync();
                var refused = new HttpResponseMessage(sent.StatusCode) { Content = new ByteArrayContent(body) };
                foreach (var header in sent.Content.Headers)
                {
                    refused.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
                return refused;
            }
        }
        return await user.SendAsync("POST", $"/v1/files/{asked.GetProperty("fileId").GetString()}/complete");
    }

    /// <summary>Sends <paramref name="content"/> to the upload URL of <paramref name="asked"/> with its method and headers.</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient store, JsonElement asked, HttpContent content, CancellationToken ct = default)
    {
        var request = new HttpRequestMessage(new HttpMethod(asked.GetProperty("uploadMethod").GetString()!), asked.GetProperty("uploadUrl").GetString()) { Content = content };
        foreach (var header in asked.GetProperty("uploadHeaders").EnumerateObject())
        {
            if (header.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(header.Value.GetString()!);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(header.Name, header.Value.GetString());
            }
        }
        return store.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }
}
