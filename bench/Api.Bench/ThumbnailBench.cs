using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedChat.ReadSideBench;
using SkiaSharp;

namespace EventSourcedChat.ApiBench;

/// <summary>
/// Time to first byte of an image's thumbnail: a 1920x1080 JPEG is uploaded (ask, <c>PUT</c>, complete) and posted
/// <c>samples</c> times; for each, <c>GET /v1/files/{id}</c> gives the signed <c>thumbnailUrl</c> and <c>downloadUrl</c>,
/// and the bench times the first byte of a <c>GET</c> of each (alternating which goes first), plus the upload's
/// completion (where the thumbnail is made: the whole <c>PUT</c> on the embedded store, the completion on S3).
/// </summary>
internal static class ThumbnailBench
{
    public static async Task<int> RunAsync(string dll, string connectionString, int samples, bool s3)
    {
        var root = Path.Combine(Path.GetTempPath(), $"esc-thumbbench-{Guid.NewGuid():N}");
        var env = new Dictionary<string, string> { ["Files__Local__Root"] = root };
        if (s3)
        {
            env["Files__Store"] = "s3"; // the rest from `scripts/services.sh env`
        }
        using var gateway = GatewayProcess.Start(dll, connectionString, 0, env);
        try
        {
            using var http = ChatApi.CreateClient(gateway.BaseAddress);
            await gateway.WaitLiveAsync(http, TimeSpan.FromSeconds(90));
            var api = new ChatApi(http);
            var user = await api.RegisterAsync("thumbs");
            var ws = await api.CreateWorkspaceAsync(user, "Thumbs");
            var ch = await api.CreateChannelAsync(user, ws, "images");
            var jpeg = Photo(1920, 1080);
            Console.WriteLine($"Api.Bench --thumbnails: {Environment.ProcessorCount} cores, store {(s3 ? "s3" : "embedded")}, {samples} images of {jpeg.Length:N0} bytes (JPEG 1920x1080)");
            var (complete, thumb, original) = (new List<long>(), new List<long>(), new List<long>());
            long thumbBytes = 0;
            for (var i = -3; i < samples; i++)
            {
                var (fileId, completeTicks) = await UploadAsync(http, user, ws, jpeg);
                var posted = await SendAsync(http, user, HttpMethod.Post, ChatApi.MessagesPath(ch), new { text = $"image {i}", files = new[] { fileId } }, HttpStatusCode.Created);
                var file = await SendAsync(http, user, HttpMethod.Get, $"v1/files/{fileId}?minPosition={posted.GetProperty("position")}", null, HttpStatusCode.OK);
                var thumbnailUrl = file.GetProperty("thumbnailUrl").GetString()!;
                var downloadUrl = file.GetProperty("downloadUrl").GetString()!;
                var thumbFirst = (i & 1) == 0;
                var a = await FirstByteAsync(http, thumbFirst ? thumbnailUrl : downloadUrl);
                var b = await FirstByteAsync(http, thumbFirst ? downloadUrl : thumbnailUrl);
                if (i >= 0)
                {
                    complete.Add(completeTicks);
                    thumb.Add((thumbFirst ? a : b).Ticks);
                    original.Add((thumbFirst ? b : a).Ticks);
                    thumbBytes = (thumbFirst ? a : b).Bytes;
                }
            }
            Console.WriteLine();
            Console.WriteLine($"thumbnail {thumbBytes:N0} bytes (WebP); p50 / p90 in ms over {samples} images:");
            Console.WriteLine();
            Console.WriteLine("| measure | p50 ms | p90 ms |");
            Console.WriteLine("|---|---:|---:|");
            Row("time to first byte, GET thumbnailUrl", thumb);
            Row("time to first byte, GET downloadUrl (the original)", original);
            Row(s3 ? "completion (POST .../complete: copy, hash, thumbnail)" : "upload (PUT to the object URL: store, hash, thumbnail)", complete);
            return 0;
        }
        catch
        {
            Console.Error.WriteLine($"gateway output (last lines):\n{gateway.Output}");
            throw;
        }
        finally
        {
            gateway.Dispose();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    internal static void Row(string name, List<long> ticks)
    {
        var sorted = ticks.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Stats.PercentileMs(sorted, 0.5):F2} | {Stats.PercentileMs(sorted, 0.9):F2} |"));
    }

    /// <summary>Asks, sends the bytes, completes; answers the file id and the ticks of the step that makes the thumbnail.</summary>
    internal static async Task<(string FileId, long Ticks)> UploadAsync(HttpClient http, BenchUser user, string ws, byte[] bytes)
    {
        var asked = await SendAsync(http, user, HttpMethod.Post, "v1/files", new { name = "photo.jpg", size = bytes.Length, contentType = "image/jpeg", workspaceId = ws }, HttpStatusCode.Created);
        var fileId = asked.GetProperty("fileId").GetString()!;
        var url = asked.GetProperty("uploadUrl").GetString()!;
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(bytes) };
        foreach (var header in asked.GetProperty("uploadHeaders").EnumerateObject())
        {
            put.Content.Headers.TryAddWithoutValidation(header.Name, header.Value.GetString());
        }
        var start = Stopwatch.GetTimestamp();
        using (var sent = await http.SendAsync(put))
        {
            sent.EnsureSuccessStatusCode();
        }
        var putTicks = Stopwatch.GetTimestamp() - start;
        start = Stopwatch.GetTimestamp();
        await SendAsync(http, user, HttpMethod.Post, $"v1/files/{fileId}/complete", null, HttpStatusCode.OK);
        var completeTicks = Stopwatch.GetTimestamp() - start;
        return (fileId, Uri.IsWellFormedUriString(url, UriKind.Absolute) ? completeTicks : putTicks); // S3's URLs are its own
    }

    /// <summary>Ticks from sending the GET to the first byte of its body; and the body's length.</summary>
    internal static async Task<(long Ticks, long Bytes)> FirstByteAsync(HttpClient http, string url)
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        var read = await body.ReadAsync(buffer.AsMemory(0, 1));
        var ticks = Stopwatch.GetTimestamp() - start;
        long total = read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }
        return (ticks, total);
    }

    internal static async Task<JsonElement> SendAsync(HttpClient http, BenchUser user, HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = user.Authorization;
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        }
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>A photo-like JPEG (gradients and noise, so it compresses like a photo, not like a flat fill).</summary>
    internal static byte[] Photo(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        var random = new Random(7);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var n = random.Next(32);
                bitmap.SetPixel(x, y, new SKColor((byte)((x * 255 / width) ^ n), (byte)((y * 255 / height) + n / 2), (byte)(((x + y) / 8 % 256) ^ n)));
            }
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 85);
        return data.ToArray();
    }
}
