using System.Diagnostics;
using System.Net;
using EventSourcedChat.ReadSideBench;

namespace EventSourcedChat.ApiBench;

/// <summary>
/// Time to first byte of an avatar: a 1920x1080 JPEG is uploaded (ask, <c>PUT</c>, complete) and set as the user's avatar
/// (<c>PATCH /v1/users/me {avatarFileId}</c>, which makes the four sizes) <c>samples</c> times; for each, a co-worker's
/// <c>GET /v1/users/{id}</c> gives the signed <c>avatarUrls</c>, and the bench times that read and the first byte of a
/// <c>GET</c> of the 32, 192 and 512 px sizes (in a rotating order), plus the <c>PATCH</c>.
/// </summary>
internal static class AvatarBench
{
    private static readonly string[] Sizes = ["32", "192", "512"];

    public static async Task<int> RunAsync(string dll, string connectionString, int samples, bool s3)
    {
        var root = Path.Combine(Path.GetTempPath(), $"esc-avatarbench-{Guid.NewGuid():N}");
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
            var user = await api.RegisterAsync("face");
            var reader = await api.RegisterAsync("reader");
            var ws = await api.CreateWorkspaceAsync(user, "Faces");
            await ThumbnailBench.SendAsync(http, user, HttpMethod.Post, $"v1/workspaces/{ws}/members", new { userId = reader.UserId }, HttpStatusCode.OK);
            var jpeg = ThumbnailBench.Photo(1920, 1080);
            Console.WriteLine($"Api.Bench --avatars: {Environment.ProcessorCount} cores, store {(s3 ? "s3" : "embedded")}, {samples} avatars from {jpeg.Length:N0} bytes (JPEG 1920x1080)");
            var (patch, read) = (new List<long>(), new List<long>());
            var firstByte = Sizes.ToDictionary(s => s, _ => new List<long>());
            var bytes = Sizes.ToDictionary(s => s, _ => 0L);
            for (var i = -3; i < samples; i++)
            {
                var (fileId, _) = await ThumbnailBench.UploadAsync(http, user, ws, jpeg);
                var start = Stopwatch.GetTimestamp();
                var set = await ThumbnailBench.SendAsync(http, user, HttpMethod.Patch, "v1/users/me", new { avatarFileId = fileId }, HttpStatusCode.OK);
                var patchTicks = Stopwatch.GetTimestamp() - start;
                start = Stopwatch.GetTimestamp();
                var profile = await ThumbnailBench.SendAsync(http, reader, HttpMethod.Get, $"v1/users/{user.UserId}?minPosition={set.GetProperty("position")}", null, HttpStatusCode.OK);
                var readTicks = Stopwatch.GetTimestamp() - start;
                var urls = profile.GetProperty("avatarUrls");
                foreach (var k in Enumerable.Range(0, Sizes.Length))
                {
                    var size = Sizes[(k + Math.Max(i, 0)) % Sizes.Length];
                    var (ticks, length) = await ThumbnailBench.FirstByteAsync(http, urls.GetProperty(size).GetString()!);
                    if (i >= 0)
                    {
                        firstByte[size].Add(ticks);
                        bytes[size] = length;
                    }
                }
                if (i >= 0)
                {
                    patch.Add(patchTicks);
                    read.Add(readTicks);
                }
            }
            Console.WriteLine();
            Console.WriteLine($"avatar sizes (WebP): {string.Join(", ", Sizes.Select(s => $"{s} px {bytes[s]:N0} bytes"))}; p50 / p90 in ms over {samples} avatars:");
            Console.WriteLine();
            Console.WriteLine("| measure | p50 ms | p90 ms |");
            Console.WriteLine("|---|---:|---:|");
            foreach (var size in Sizes)
            {
                ThumbnailBench.Row($"time to first byte, GET avatarUrls[\"{size}\"]", firstByte[size]);
            }
            ThumbnailBench.Row("a co-worker's GET /v1/users/{id} (signs the four URLs)", read);
            ThumbnailBench.Row("PATCH /v1/users/me {avatarFileId} (read, decode, crop, four sizes, store, append)", patch);
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
}
