using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Gateway.Files;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Files through the real host and an object store, the same flows for each store (<see cref="Files"/>: the embedded
/// one; <see cref="FilesOnS3"/>: S3, on the S3-compatible server the services script runs): ask for an upload, send the
/// bytes to the signed URL, complete the upload, post a message carrying the file, and get a signed download URL as a
/// member of a channel it was shared in. What only one store can do is asserted through the hooks below.
/// </summary>
public abstract partial class FileFlows(PostgresFixture db) : ApiTest(db)
{
    /// <summary>The settings that select this store, for the extra hosts a test starts.</summary>
    protected abstract Dictionary<string, string?> StoreSettings { get; }

    /// <summary>A client for the store's URLs, with no bearer token (the signed URL is the grant).</summary>
    protected virtual HttpClient StoreClient() => Anonymous();

    /// <summary>Whether downloads carry <c>X-Content-Type-Options: nosniff</c> and a sandboxing CSP (S3 cannot add headers).</summary>
    protected abstract bool StoreAddsSecurityHeaders { get; }

    /// <summary>Whether the store holds the object's bytes.</summary>
    protected abstract Task<bool> StoredAsync(string fileId);

    /// <summary>The download URL changed in ways its signature must catch (only what the store checks).</summary>
    protected abstract IEnumerable<string> Altered(string url, string fileId);

    /// <summary>Asserts the store's refusal of a URL (expired or altered).</summary>
    protected abstract Task AssertRefusedAsync(HttpResponseMessage response);

    protected static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. Encoding.ASCII.GetBytes("not really an image, but its signature")];

    protected static byte[] Text(int size) => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, size / 10 + 1).Select(i => $"line {i % 10000:D4}\n")))[..size];

    protected static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    protected sealed record Team(string Ws, string Ch, TestUser Ada, TestUser Bob, TestUser Carol);

    /// <summary>Ada's workspace with Bob and Carol; #general has Ada and Bob, not Carol.</summary>
    protected async Task<Team> TeamAsync()
    {
        var (ada, bob, carol) = (await RegisterAsync("ada"), await RegisterAsync("bob"), await RegisterAsync("carol"));
        var ws = await WorkspaceAsync(ada, bob, carol);
        var ch = await ChannelAsync(ada, ws);
        await bob.Ok("POST", $"/v1/channels/{ch}/join");
        return new Team(ws, ch, ada, bob, carol);
    }

    protected static async Task<(long Seq, long Position)> PostAsync(TestUser user, string ch, params string[] files)
    {
        var answer = await user.Ok("POST", $"/v1/channels/{ch}/messages", new { text = "have a look", files }, HttpStatusCode.Created);
        return (answer.GetProperty("seq").GetInt64(), answer.GetProperty("position").GetInt64());
    }

    private static Task<HttpResponseMessage> GetFileAsync(TestUser user, string fileId, long position) =>
        user.SendAsync("GET", $"/v1/files/{fileId}?minPosition={position}");

    private async Task<JsonElement> StoredDataAsync(long position)
    {
        await using var cmd = Db.DataSource.CreateCommand("select data::text from es_events where position = $1");
        cmd.Parameters.AddWithValue(position);
        return JsonDocument.Parse((string)(await cmd.ExecuteScalarAsync())!).RootElement.Clone();
    }

    [Fact]
    public async Task A_member_uploads_a_file_posts_it_and_another_member_downloads_it_whole_or_by_range()
    {
        var t = await TeamAsync();
        var bytes = Text(200_000);
        using var store = StoreClient(); // the signed URL is the grant: no bearer token
        var (fileId, uploaded) = await Uploads.UploadAsync(t.Ada, store, t.Ws, bytes, "build.log", "application/x-log");
        Assert.Equal(Sha256(bytes), uploaded.GetProperty("sha256").GetString());
        Assert.Equal("text/plain", uploaded.GetProperty("contentType").GetString()); // from the bytes, not the declared type

        var (seq, position) = await PostAsync(t.Ada, t.Ch, fileId);
        var stored = (await StoredDataAsync(position)).GetProperty("files").EnumerateArray().Single();
        Assert.Equal(fileId, stored.GetProperty("fileId").GetString());
        Assert.Equal("build.log", stored.GetProperty("name").GetString());
        Assert.Equal(bytes.Length, stored.GetProperty("size").GetInt64());
        Assert.Equal("text/plain", stored.GetProperty("contentType").GetString());
        Assert.Equal(Sha256(bytes), stored.GetProperty("sha256").GetString());

        // The history shows the message with its files as the event has them.
        var shown = (await t.Bob.Ok("GET", $"/v1/channels/{t.Ch}/messages/{seq}?minPosition={position}")).GetProperty("files").EnumerateArray().Single();
        foreach (var field in new[] { "fileId", "name", "contentType", "sha256" })
        {
            Assert.Equal(stored.GetProperty(field).GetString(), shown.GetProperty(field).GetString());
        }
        Assert.Equal(bytes.Length, shown.GetProperty("size").GetInt64());
        var plain = await t.Bob.Ok("POST", $"/v1/channels/{t.Ch}/messages", new { text = "no files" }, HttpStatusCode.Created);
        var plainView = await t.Bob.Ok("GET", $"/v1/channels/{t.Ch}/messages/{plain.GetProperty("seq")}?minPosition={plain.GetProperty("position")}");
        Assert.Empty(plainView.GetProperty("files").EnumerateArray());

        var file = await t.Bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}");
        Assert.Equal(Sha256(bytes), file.GetProperty("sha256").GetString());
        Assert.Equal(bytes.Length, file.GetProperty("size").GetInt64());
        Assert.True(file.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        var url = file.GetProperty("downloadUrl").GetString()!;

        using var whole = await store.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal("attachment", whole.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("build.log", whole.Content.Headers.ContentDisposition?.FileNameStar ?? whole.Content.Headers.ContentDisposition?.FileName);
        if (StoreAddsSecurityHeaders)
        {
            Assert.Equal("nosniff", whole.Headers.GetValues("X-Content-Type-Options").Single());
        }
        Assert.Equal("application/octet-stream", whole.Content.Headers.ContentType?.MediaType);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(100_000, 100_099);
        using var part = await store.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(bytes[100_000..100_100], await part.Content.ReadAsByteArrayAsync());
        Assert.Equal(bytes.Length, part.Content.Headers.ContentRange?.Length);
    }

    [Fact]
    public async Task Raster_images_show_inline_but_svg_and_html_download_whatever_type_was_declared()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var cases = new (byte[] Bytes, string Declared, string Found, string Disposition)[]
        {
            (Png, "application/octet-stream", "image/png", "inline"),
            (Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"), "image/png", "image/svg+xml", "attachment"),
            (Encoding.UTF8.GetBytes("<!doctype html><script>alert(1)</script>"), "text/plain", "text/html", "attachment"),
        };
        foreach (var (bytes, declared, found, disposition) in cases)
        {
            var (fileId, uploaded) = await Uploads.UploadAsync(t.Ada, store, t.Ws, bytes, "picture.png", declared);
            Assert.Equal(found, uploaded.GetProperty("contentType").GetString());
            var (_, position) = await PostAsync(t.Ada, t.Ch, fileId);
            var file = await t.Bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}");
            using var download = await store.GetAsync(file.GetProperty("downloadUrl").GetString());
            Assert.Equal(disposition, download.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal(disposition == "inline" ? found : "application/octet-stream", download.Content.Headers.ContentType?.MediaType);
            if (StoreAddsSecurityHeaders)
            {
                Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
                Assert.Contains("sandbox", download.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Only_members_of_a_channel_where_the_file_was_shared_get_it_and_leaving_or_deleting_the_message_ends_that()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var (fileId, _) = await Uploads.UploadAsync(t.Ada, store, t.Ws, Text(1000));
        Assert.Equal(HttpStatusCode.NotFound, (await GetFileAsync(t.Ada, fileId, 0)).StatusCode); // not shared yet, even for its uploader

        var (_, position) = await PostAsync(t.Ada, t.Ch, fileId);
        await t.Bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}");
        await Problems.AssertAsync(await GetFileAsync(t.Carol, fileId, position), HttpStatusCode.NotFound, "not_found"); // in the workspace, not the channel

        // Shared again in a channel Carol is in: she gets it there, until that message is deleted.
        var other = await ChannelAsync(t.Ada, t.Ws, "random");
        await t.Carol.Ok("POST", $"/v1/channels/{other}/join");
        var (seq, again) = await PostAsync(t.Ada, other, fileId);
        await t.Carol.Ok("GET", $"/v1/files/{fileId}?minPosition={again}");
        var deleted = (await t.Ada.Ok("DELETE", $"/v1/channels/{other}/messages/{seq}")).GetProperty("position").GetInt64();
        await Problems.AssertAsync(await GetFileAsync(t.Carol, fileId, deleted), HttpStatusCode.NotFound, "not_found");

        var left = (await t.Bob.Ok("POST", $"/v1/channels/{t.Ch}/leave")).GetProperty("position").GetInt64();
        await Problems.AssertAsync(await GetFileAsync(t.Bob, fileId, left), HttpStatusCode.NotFound, "not_found");
        await t.Ada.Ok("GET", $"/v1/files/{fileId}?minPosition={left}"); // still shared in #general, where Ada is
    }

    [Fact]
    public async Task A_url_that_expired_or_was_changed_is_refused()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var (fileId, _) = await Uploads.UploadAsync(t.Ada, store, t.Ws, Png, "a.png", "image/png");
        var (_, position) = await PostAsync(t.Ada, t.Ch, fileId);
        var url = (await t.Bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}")).GetProperty("downloadUrl").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await store.GetAsync(url)).StatusCode);

        var objects = Host.Services.GetRequiredService<IObjectStore>();
        var expired = objects.SignDownload(fileId, new FileDownload("a.png", "image/png"), DateTimeOffset.UtcNow.AddSeconds(-2));
        foreach (var bad in Altered(url, fileId).Prepend(expired))
        {
            Assert.NotEqual(url, bad);
            await AssertRefusedAsync(await store.GetAsync(bad));
        }
        var upload = objects.SignUpload(fileId, 10, DateTimeOffset.UtcNow.AddSeconds(-2));
        await AssertRefusedAsync(await store.PutAsync(upload.Url, new ByteArrayContent(new byte[10])));
    }

    [Fact]
    public async Task Bytes_other_than_asked_a_second_upload_and_files_over_the_limits_are_refused()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        await t.Ada.Problem("POST", "/v1/files", new { name = "huge.iso", size = 2L * 1024 * 1024 * 1024, contentType = "application/octet-stream", workspaceId = t.Ws },
            HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await t.Ada.Problem("POST", "/v1/files", new { name = "x.txt", size = 10, contentType = "text/plain", workspaceId = new string('0', 32) },
            HttpStatusCode.NotFound, "not_found");

        // Refused by the store as the bytes arrive (embedded) or when the upload is completed (S3): the flow's answer is the same.
        var asked = await t.Ada.Ok("POST", "/v1/files", new { name = "ten.txt", size = 10, contentType = "text/plain", workspaceId = t.Ws }, HttpStatusCode.Created);
        await Problems.AssertAsync(await Uploads.SendAndCompleteAsync(t.Ada, store, asked, new ByteArrayContent(Text(11))), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await Problems.AssertAsync(await Uploads.SendAndCompleteAsync(t.Ada, store, asked, new ByteArrayContent(Text(9))), HttpStatusCode.BadRequest, "invalid_request");
        using (var ok = await Uploads.SendAndCompleteAsync(t.Ada, store, asked, new ByteArrayContent(Text(10))))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        await Problems.AssertAsync(await Uploads.SendAndCompleteAsync(t.Ada, store, asked, new ByteArrayContent(Text(10))), HttpStatusCode.Conflict, "conflict");

        await using var strict = new ChatHost(Db, new(StoreSettings) { ["Files:WorkspaceQuotaBytes"] = "1000", ["Files:MaxFileBytes"] = "800" });
        var ada = await RegisterAsync("ada", strict);
        var ws = await WorkspaceAsync(ada);
        await ada.Problem("POST", "/v1/files", new { name = "big.txt", size = 801, workspaceId = ws }, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await ada.Ok("POST", "/v1/files", new { name = "one.txt", size = 600, workspaceId = ws }, HttpStatusCode.Created);
        await ada.Problem("POST", "/v1/files", new { name = "two.txt", size = 600, workspaceId = ws }, HttpStatusCode.RequestEntityTooLarge, "quota_exceeded");
        await ada.Ok("POST", "/v1/files", new { name = "two.txt", size = 400, workspaceId = ws }, HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_post_naming_a_file_not_uploaded_yet_or_someone_else_s_is_refused_and_appends_nothing()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var (bobs, _) = await Uploads.UploadAsync(t.Bob, store, t.Ws, Text(100));
        var pending = (await t.Ada.Ok("POST", "/v1/files", new { name = "p.txt", size = 10, workspaceId = t.Ws }, HttpStatusCode.Created))
            .GetProperty("fileId").GetString()!;
        var before = await EventCountAsync();
        foreach (var files in new[] { new[] { bobs }, [pending], [new string('0', 32)], ["not an id"] })
        {
            await t.Ada.Problem("POST", $"/v1/channels/{t.Ch}/messages", new { text = "see", files }, HttpStatusCode.BadRequest, "invalid_request");
        }
        Assert.Equal(before, await EventCountAsync());
    }

    [Fact]
    public async Task Files_never_attached_are_swept_with_their_bytes_and_attached_ones_stay()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var (kept, _) = await Uploads.UploadAsync(t.Ada, store, t.Ws, Text(100));
        var (swept, _) = await Uploads.UploadAsync(t.Ada, store, t.Ws, Text(100));
        await PostAsync(t.Ada, t.Ch, kept);
        await using (var expire = Db.DataSource.CreateCommand("update ws_files set expires_at = now() - interval '1 second'"))
        {
            await expire.ExecuteNonQueryAsync();
        }
        Assert.True(await StoredAsync(swept));

        Assert.Equal(1, await Host.Services.GetRequiredService<FileSweeper>().SweepOnceAsync(default));

        Assert.False(await StoredAsync(swept));
        Assert.True(await StoredAsync(kept));
        await t.Ada.Problem("POST", $"/v1/channels/{t.Ch}/messages", new { text = "late", files = new[] { swept } }, HttpStatusCode.BadRequest, "invalid_request");
        await PostAsync(t.Ada, t.Ch, kept); // an attached file can be shared again
    }

    [Fact]
    public async Task Only_the_uploader_completes_an_upload_once_its_bytes_are_there_and_completing_again_answers_the_same()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var bytes = Text(3000);
        var asked = await t.Ada.Ok("POST", "/v1/files", new { name = "c.txt", size = bytes.Length, workspaceId = t.Ws }, HttpStatusCode.Created);
        var fileId = asked.GetProperty("fileId").GetString()!;
        await t.Ada.Problem("POST", $"/v1/files/{fileId}/complete", null, HttpStatusCode.BadRequest, "invalid_request"); // no bytes yet
        await t.Bob.Problem("POST", $"/v1/files/{fileId}/complete", null, HttpStatusCode.NotFound, "not_found"); // not his upload
        await t.Ada.Problem("POST", $"/v1/files/{new string('0', 32)}/complete", null, HttpStatusCode.NotFound, "not_found");
        await t.Ada.Problem("POST", "/v1/files/not-an-id/complete", null, HttpStatusCode.NotFound, "not_found");
        var before = await EventCountAsync();

        using (var done = await Uploads.SendAndCompleteAsync(t.Ada, store, asked, new ByteArrayContent(bytes)))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        }
        var again = await t.Ada.Ok("POST", $"/v1/files/{fileId}/complete");
        Assert.Equal(fileId, again.GetProperty("fileId").GetString());
        Assert.Equal(bytes.Length, again.GetProperty("size").GetInt64());
        Assert.Equal(Sha256(bytes), again.GetProperty("sha256").GetString());
        Assert.Equal("text/plain", again.GetProperty("contentType").GetString());
        await t.Bob.Problem("POST", $"/v1/files/{fileId}/complete", null, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(before, await EventCountAsync()); // an upload is not a fact of any stream until a message carries it
    }
}
