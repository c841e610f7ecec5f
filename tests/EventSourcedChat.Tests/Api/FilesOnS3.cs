using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Amazon.S3;
using EventSourcedChat.Gateway.Files;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// The file flows (<see cref="FileFlows"/>) on the S3 object store, against the S3-compatible server of
/// <c>scripts/services.sh</c> (npm <c>s3rver</c>): pre-signed URLs straight to the store, the upload completed by the
/// API reading the bytes back. Its own host (<c>Files:Store=s3</c>), on the same test database.
/// </summary>
public sealed class FilesOnS3(PostgresFixture db) : FileFlows(db)
{
    private static readonly Lock Gate = new();
    private static ChatHost? _host;

    protected override Dictionary<string, string?> StoreSettings => S3TestServer.Settings();

    protected override ChatHost Host
    {
        get
        {
            lock (Gate)
            {
                return _host ??= new ChatHost(Db, new(StoreSettings) { ["RateLimits:PostsPerSecond"] = "1000", ["RateLimits:PostsBurst"] = "1000" });
            }
        }
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await S3TestServer.EnsureBucketAsync(Host.Services.GetRequiredService<IAmazonS3>(), Host.Services.GetRequiredService<S3Settings>().Bucket);
    }

    protected override HttpClient StoreClient() => new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>S3 answers with the object's headers and the overrides its URL signs (type, disposition); it adds no others.</summary>
    protected override bool StoreAddsSecurityHeaders => false;

    protected override Task<bool> StoredAsync(string fileId) => Host.Services.GetRequiredService<S3ObjectStore>().ExistsAsync(fileId, default);

    /// <summary>
    /// None: s3rver 3.7.1 does not verify version 4 signatures (an altered URL is served as the original would be; see
    /// docs/files.md), so only expiry is refused here. AWS S3 and MinIO check the signature.
    /// </summary>
    protected override IEnumerable<string> Altered(string url, string fileId) => [];

    protected override Task AssertRefusedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); // S3's own answer: XML, code AccessDenied
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Upload_and_download_urls_are_signature_version_4_urls_of_the_store_addressed_by_path()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var serviceUrl = Host.Services.GetRequiredService<S3Settings>().ServiceUrl!.TrimEnd('/');
        var bucket = Host.Services.GetRequiredService<S3Settings>().Bucket;
        var asked = await t.Ada.Ok("POST", "/v1/files", new { name = "a.png", size = Png.Length, workspaceId = t.Ws }, HttpStatusCode.Created);
        var fileId = asked.GetProperty("fileId").GetString()!;
        var upload = asked.GetProperty("uploadUrl").GetString()!;
        Assert.StartsWith($"{serviceUrl}/{bucket}/{S3ObjectStore.IncomingKey(fileId)}?", upload, StringComparison.Ordinal);
        Assert.Contains("X-Amz-Algorithm=AWS4-HMAC-SHA256", upload, StringComparison.Ordinal);
        Assert.Contains("X-Amz-Signature=", upload, StringComparison.Ordinal);
        Assert.Equal("application/octet-stream", asked.GetProperty("uploadHeaders").GetProperty("Content-Type").GetString());
        using (var done = await Uploads.SendAndCompleteAsync(t.Ada, store, asked, new ByteArrayContent(Png)))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        }
        var (_, position) = await PostAsync(t.Ada, t.Ch, fileId);
        var download = (await t.Bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}")).GetProperty("downloadUrl").GetString()!;
        Assert.StartsWith($"{serviceUrl}/{bucket}/{S3ObjectStore.ObjectKey(fileId)}?", download, StringComparison.Ordinal);
        Assert.Contains("X-Amz-Algorithm=AWS4-HMAC-SHA256", download, StringComparison.Ordinal);
        Assert.Contains("response-content-disposition=inline", download, StringComparison.Ordinal);
        Assert.Contains("response-content-type=image%2Fpng", download, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_completion_that_failed_after_copying_the_bytes_is_finished_by_the_next_one()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var bytes = Text(5000);
        var asked = await t.Ada.Ok("POST", "/v1/files", new { name = "late.txt", size = bytes.Length, workspaceId = t.Ws }, HttpStatusCode.Created);
        var fileId = asked.GetProperty("fileId").GetString()!;
        using (var sent = await Uploads.SendAsync(store, asked, new ByteArrayContent(bytes)))
        {
            Assert.True(sent.IsSuccessStatusCode);
        }
        // What a completion leaves when the store fails right after its copy: the copy, no upload, nothing recorded.
        var s3 = Host.Services.GetRequiredService<IAmazonS3>();
        var bucket = Host.Services.GetRequiredService<S3Settings>().Bucket;
        await s3.CopyObjectAsync(bucket, S3ObjectStore.IncomingKey(fileId), bucket, S3ObjectStore.ObjectKey(fileId));
        await s3.DeleteObjectAsync(bucket, S3ObjectStore.IncomingKey(fileId));

        var completed = await t.Ada.Ok("POST", $"/v1/files/{fileId}/complete");
        Assert.Equal(Sha256(bytes), completed.GetProperty("sha256").GetString());
        Assert.Equal("text/plain", completed.GetProperty("contentType").GetString());
        await PostAsync(t.Ada, t.Ch, fileId);
    }

    /// <summary>
    /// The host as its own process (as in <see cref="Files"/>): a 100 MB file goes to the store and back without it, and
    /// its completion reads the bytes back from the store with the host's resident memory far below the file's size.
    /// </summary>
    [Fact]
    public async Task A_100_MB_file_goes_to_the_store_directly_and_its_completion_reads_it_back_with_flat_memory()
    {
        const long size = 100L * 1024 * 1024;
        var t = await TeamAsync();
        var settings = new Dictionary<string, string?>(StoreSettings)
        {
            ["Roles"] = "api",
            ["ConnectionStrings:Postgres"] = Db.ConnectionString,
            ["Realtime:Exchange"] = $"chat.events.{PostgresFixture.DatabaseName}",
        };
        await using var gateway = await GatewayProcess.StartAsync(settings);
        using var store = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        TestUser On(TestUser user)
        {
            var client = new HttpClient { BaseAddress = gateway.BaseUrl, Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = user.Client.DefaultRequestHeaders.Authorization;
            return user with { Client = client };
        }
        var (ada, bob) = (On(t.Ada), On(t.Bob));
        await Uploads.UploadAsync(ada, store, t.Ws, Text(1000)); // warm up: the code paths are compiled before the baseline

        var expected = await PatternStream.Sha256Async(new PatternStream(size));
        using var process = Process.GetProcessById(gateway.Pid);
        long Resident()
        {
            process.Refresh();
            return process.WorkingSet64;
        }
        var baseline = Resident();
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, Resident());
                await Task.Delay(10);
            }
        });

        var asked = await ada.Ok("POST", "/v1/files", new { name = "big.bin", size, workspaceId = t.Ws }, HttpStatusCode.Created);
        var fileId = asked.GetProperty("fileId").GetString()!;
        var started = Stopwatch.StartNew();
        var content = new StreamContent(new PatternStream(size), 64 * 1024);
        content.Headers.ContentLength = size;
        using (var up = await Uploads.SendAsync(store, asked, content))
        {
            Assert.True(up.IsSuccessStatusCode, $"upload to the store: {(int)up.StatusCode}");
        }
        var upTime = started.Elapsed;
        var upPeak = peak - baseline; // the host is not involved: the bytes went to the store
        started.Restart();
        var completed = await ada.Ok("POST", $"/v1/files/{fileId}/complete");
        Assert.Equal(expected, completed.GetProperty("sha256").GetString());
        var completeTime = started.Elapsed;

        var (_, position) = await PostAsync(ada, t.Ch, fileId);
        var url = (await bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}")).GetProperty("downloadUrl").GetString();
        started.Restart();
        using (var down = await store.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, down.StatusCode);
            Assert.Equal(expected, await PatternStream.Sha256Async(await down.Content.ReadAsStreamAsync()));
        }
        var downTime = started.Elapsed;
        await sampling.CancelAsync();
        await sampler;
        var totalPeak = peak - baseline;
        Console.WriteLine($"100 MB through the S3 store (s3rver, host process): up {upTime.TotalSeconds:F1} s (client to store), "
            + $"completion {completeTime.TotalSeconds:F1} s (size check, copy, read back and hash), down {downTime.TotalSeconds:F1} s (store to client); "
            + $"host resident memory above its baseline of {baseline / 1048576.0:F0} MB: at most {upPeak / 1048576.0:F1} MB uploading, {totalPeak / 1048576.0:F1} MB over all");
        Assert.True(totalPeak < 50L * 1024 * 1024, $"the host's resident memory grew by {totalPeak} bytes");
    }
}
