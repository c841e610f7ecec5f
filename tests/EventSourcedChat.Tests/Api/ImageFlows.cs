using System.Net;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedChat.Tests.Api;

/// <summary>Images' dimensions and thumbnails, through the same flows on each store (see <see cref="FileFlows"/>).</summary>
public abstract partial class FileFlows
{
    [Fact]
    public async Task An_image_gets_its_dimensions_and_a_thumbnail_that_members_get_and_others_do_not()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var cases = new (byte[] Bytes, string Name, string Type, int Width, int Height, int ThumbWidth, int ThumbHeight)[]
        {
            (TestImages.Png(800, 600), "wide.png", "image/png", 800, 600, 360, 270),
            (TestImages.Jpeg(300, 1000), "tall.jpg", "image/jpeg", 300, 1000, 108, 360),
            (TestImages.Png(40, 20), "small.png", "image/png", 40, 20, 40, 20), // smaller than a thumbnail: kept its size
        };
        foreach (var c in cases)
        {
            var (fileId, uploaded) = await Uploads.UploadAsync(t.Ada, store, t.Ws, c.Bytes, c.Name, "application/octet-stream");
            Assert.Equal(c.Type, uploaded.GetProperty("contentType").GetString());
            var (seq, position) = await PostAsync(t.Ada, t.Ch, fileId);

            // The event holds the dimensions and the thumbnail's reference; the history shows them.
            var stored = (await StoredDataAsync(position)).GetProperty("files")[0];
            Assert.Equal((c.Width, c.Height), (stored.GetProperty("width").GetInt32(), stored.GetProperty("height").GetInt32()));
            var thumbnail = stored.GetProperty("thumbnail");
            Assert.Equal(Thumbnails.ObjectIdOf(fileId), thumbnail.GetProperty("objectId").GetString());
            Assert.Equal((c.ThumbWidth, c.ThumbHeight), (thumbnail.GetProperty("width").GetInt32(), thumbnail.GetProperty("height").GetInt32()));
            Assert.Equal("image/webp", thumbnail.GetProperty("contentType").GetString());
            var shown = (await t.Bob.Ok("GET", $"/v1/channels/{t.Ch}/messages/{seq}?minPosition={position}")).GetProperty("files")[0];
            Assert.Equal((c.Width, c.Height), (shown.GetProperty("width").GetInt32(), shown.GetProperty("height").GetInt32()));

            // A member gets a signed thumbnail URL; the thumbnail is a WebP image of the thumbnail's size, shown inline.
            var file = await t.Bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}");
            Assert.Equal((c.Width, c.Height), (file.GetProperty("width").GetInt32(), file.GetProperty("height").GetInt32()));
            using var got = await store.GetAsync(file.GetProperty("thumbnailUrl").GetString());
            Assert.Equal(HttpStatusCode.OK, got.StatusCode);
            Assert.Equal("image/webp", got.Content.Headers.ContentType?.MediaType);
            Assert.Equal("inline", got.Content.Headers.ContentDisposition?.DispositionType);
            var bytes = await got.Content.ReadAsByteArrayAsync();
            Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(bytes, 8, 4));
            Assert.Equal((c.ThumbWidth, c.ThumbHeight), TestImages.SizeOf(bytes));

            // A workspace member outside the channel gets no thumbnail URL: the file does not exist for her.
            await Problems.AssertAsync(await GetFileAsync(t.Carol, fileId, position), HttpStatusCode.NotFound, "not_found");
        }
    }

    [Fact]
    public async Task A_corrupt_image_a_bomb_header_or_a_non_image_is_shared_without_dimensions_or_thumbnail()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var jpeg = TestImages.Jpeg(200, 200);
        var cases = new (byte[] Bytes, string Name, string Type)[]
        {
            (Png, "corrupt.png", "image/png"), // the signature, then text
            (jpeg[..(jpeg.Length / 2)], "truncated.jpg", "image/jpeg"),
            (TestImages.BombPng(30_000, 30_000), "bomb.png", "image/png"), // 900 MP declared: 3.6 GB to decode
            (Text(5000), "notes.txt", "text/plain"),
        };
        foreach (var (bytes, name, type) in cases)
        {
            var (fileId, uploaded) = await Uploads.UploadAsync(t.Ada, store, t.Ws, bytes, name, "application/octet-stream");
            Assert.Equal(type, uploaded.GetProperty("contentType").GetString());
            var (_, position) = await PostAsync(t.Ada, t.Ch, fileId);
            var stored = (await StoredDataAsync(position)).GetProperty("files")[0];
            Assert.Equal(["contentType", "fileId", "name", "sha256", "size"], stored.EnumerateObject().Select(p => p.Name).Order()); // jsonb orders keys its own way
            var file = await t.Bob.Ok("GET", $"/v1/files/{fileId}?minPosition={position}");
            foreach (var absent in new[] { "width", "height", "thumbnailUrl" })
            {
                Assert.False(file.TryGetProperty(absent, out _), $"{name}: {absent} in {file}");
            }
            using var download = await store.GetAsync(file.GetProperty("downloadUrl").GetString());
            Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync()); // shared as a file all the same
            Assert.False(await StoredAsync(Thumbnails.ObjectIdOf(fileId)));
        }
    }

    [Fact]
    public async Task A_swept_image_takes_its_thumbnail_with_it()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var (fileId, _) = await Uploads.UploadAsync(t.Ada, store, t.Ws, TestImages.Png(500, 500), "never-posted.png", "image/png");
        Assert.True(await StoredAsync(Thumbnails.ObjectIdOf(fileId)));
        await using (var expire = Db.DataSource.CreateCommand("update ws_files set expires_at = now() - interval '1 second' where file_id = $1"))
        {
            expire.Parameters.AddWithValue(fileId);
            await expire.ExecuteNonQueryAsync();
        }
        Assert.True(await Host.Services.GetRequiredService<FileSweeper>().SweepOnceAsync(default) >= 1);
        Assert.False(await StoredAsync(fileId));
        Assert.False(await StoredAsync(Thumbnails.ObjectIdOf(fileId)));
    }
}
