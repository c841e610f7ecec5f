using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using EventSourcedChat.Gateway.Files;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// The file flows (<see cref="FileFlows"/>) on the embedded object store: files on local disk, URLs this host signs and
/// serves (<c>/v1/objects/{id}</c>), refusals as problem+json; and a 100 MB file through a host process, memory flat.
/// </summary>
public sealed class Files(PostgresFixture db) : FileFlows(db)
{
    protected override Dictionary<string, string?> StoreSettings => new() { [S3Settings.StoreSetting] = S3Settings.Local };

    protected override bool StoreAddsSecurityHeaders => true;

    protected override Task<bool> StoredAsync(string fileId) =>
        Task.FromResult(File.Exists(Host.Services.GetRequiredService<LocalObjectStore>().PathOf(fileId)));

    protected override IEnumerable<string> Altered(string url, string fileId) =>
    [
        url.Replace("name=a.png", "name=a.html", StringComparison.Ordinal),
        url.Replace("type=image%2Fpng", "type=text%2Fhtml", StringComparison.Ordinal),
        url[..url.IndexOf("&sig=", StringComparison.Ordinal)],
        url.Replace(fileId, new string('0', 32), StringComparison.Ordinal),
    ];

    protected override async Task AssertRefusedAsync(HttpResponseMessage response) =>
        await Problems.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");

    /// <summary>
    /// The host as its own process (Kestrel, as deployed; the in-process test server buffers request bodies itself):
    /// its resident memory, sampled while a 100 MB file goes up and comes down, stays far below the file's size.
    /// </summary>
    [Fact]
    public async Task A_100_MB_file_goes_up_and_down_streamed_with_flat_memory()
    {
        const long size = 100L * 1024 * 1024;
        var t = await TeamAsync();
        await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Roles"] = "api",
            ["ConnectionStrings:Postgres"] = Db.ConnectionString,
            ["Realtime:Exchange"] = $"chat.events.{PostgresFixture.DatabaseName}",
            ["Files:Local:Root"] = Path.Combine(Path.GetTempPath(), $"esc-files-{PostgresFixture.DatabaseName}-process"),
        });
        using var store = new HttpClient { BaseAddress = gateway.BaseUrl, Timeout = TimeSpan.FromMinutes(5) };
        TestUser On(TestUser user)
        {
            var client = new HttpClient { BaseAddress = gateway.BaseUrl, Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = user.Client.DefaultRequestHeaders.Authorization;
            return user with { Client = client };
        }
        var (ada, bob) = (On(t.Ada), On(t.Bob));
        await Uploads.UploadAsync(ada, store, t.Ws, Text(1000)); // warm up: the code paths are compiled before the baseline

        var expected = await PatternStream.Sha256Async(new PatternStream(size));
        using var process = System.Diagnostics.Process.GetProcessById(gateway.Pid);
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
        var started = System.Diagnostics.Stopwatch.StartNew();
        var content = new StreamContent(new PatternStream(size), 64 * 1024);
        content.Headers.ContentLength = size;
        using (var up = await Uploads.SendAsync(store, asked, content))
        {
            Assert.Equal(HttpStatusCode.OK, up.StatusCode);
            Assert.Equal(expected, JsonDocument.Parse(await up.Content.ReadAsStringAsync()).RootElement.GetProperty("sha256").GetString());
        }
        var upTime = started.Elapsed;
        var upPeak = peak - baseline;

        var (_, position) = await PostAsync(ada, t.Ch, fileId);
        var url = (await bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}")).GetProperty("downloadUrl").GetString();
        started.Restart();
        using (var down = await store.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(expected, await PatternStream.Sha256Async(await down.Content.ReadAsStreamAsync()));
        }
        var downTime = started.Elapsed;
        await sampling.CancelAsync();
        await sampler;
        var totalPeak = peak - baseline;
        Console.WriteLine($"100 MB through the embedded store (host process): up {upTime.TotalSeconds:F1} s, down {downTime.TotalSeconds:F1} s; "
            + $"resident memory above its baseline of {baseline / 1048576.0:F0} MB: at most {upPeak / 1048576.0:F1} MB uploading, {totalPeak / 1048576.0:F1} MB over both");
        // Buffered whole, the file alone would add 100 MB; streamed, what grows is the pieces in flight and the GC's slack.
        Assert.True(totalPeak < 50L * 1024 * 1024, $"the host's resident memory grew by {totalPeak} bytes");
    }
}
