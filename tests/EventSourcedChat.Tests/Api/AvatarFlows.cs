using System.Net;
using System.Text.Json;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace EventSourcedChat.Tests.Api;

/// <summary>
/// Avatars through the same flows on each store (see <see cref="FileFlows"/>): an image uploaded as any file becomes the
/// caller's avatar with <c>PATCH /v1/users/me {avatarFileId}</c>, cut to its centred square in four sizes, and people
/// sharing a workspace get signed URLs of them in the profile, the member lists and a page's authors.
/// </summary>
public abstract partial class FileFlows
{
    private static readonly int[] AvatarSizes = [32, 72, 192, 512];

    private async Task<JsonElement> SetAvatarAsync(TestUser user, HttpClient store, string ws, byte[] image, string name = "me.png")
    {
        var (fileId, _) = await Uploads.UploadAsync(user, store, ws, image, name, "application/octet-stream");
        var answer = await user.Ok("PATCH", "/v1/users/me", new { avatarFileId = fileId });
        Assert.Equal(fileId, (await UserEventAsync(answer.GetProperty("position").GetInt64())).Data.GetProperty("fileId").GetString());
        return answer;
    }

    private async Task<(string Type, JsonElement Data)> UserEventAsync(long position)
    {
        await using var cmd = Db.DataSource.CreateCommand("select type, data::text from es_events where position = $1");
        cmd.Parameters.AddWithValue(position);
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        return (r.GetString(0), JsonDocument.Parse(r.GetString(1)).RootElement.Clone());
    }

    private static Dictionary<int, string> UrlsOf(JsonElement view) =>
        view.GetProperty("avatarUrls").EnumerateObject().ToDictionary(p => int.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture), p => p.Value.GetString()!);

    [Fact]
    public async Task An_uploaded_image_becomes_an_avatar_in_four_square_sizes_that_co_workers_get_and_strangers_do_not()
    {
        var t = await TeamAsync();
        var dave = await RegisterAsync("dave"); // shares no workspace with Ada
        using var store = StoreClient();
        // 300 x 100: red, green and blue thirds; the centred square is the green one.
        var image = TestImages.Bands(300, 100, SKEncodedImageFormat.Png, SKColors.Red, SKColors.Lime, SKColors.Blue);
        var (fileId, uploaded) = await Uploads.UploadAsync(t.Ada, store, t.Ws, image, "wide.png", "application/octet-stream");
        var answer = await t.Ada.Ok("PATCH", "/v1/users/me", new { avatarFileId = fileId });
        var position = answer.GetProperty("position").GetInt64();
        Assert.Equal(AvatarSizes, UrlsOf(answer).Keys.Order());
        Assert.Equal(UrlsOf(answer)[192], answer.GetProperty("avatarUrl").GetString());

        // The event holds the file, its hash and the sizes' object ids: no bytes, no URL.
        var (type, data) = await UserEventAsync(position);
        Assert.Equal("user.avatar_set.v1", type);
        Assert.Equal(uploaded.GetProperty("sha256").GetString(), data.GetProperty("sha256").GetString());
        Assert.Equal(AvatarSizes.Select(s => (s, Avatars.ObjectIdOf(fileId, s))),
            data.GetProperty("images").EnumerateArray().Select(i => (i.GetProperty("size").GetInt32(), i.GetProperty("objectId").GetString()!)));
        Assert.DoesNotContain("http", data.GetRawText(), StringComparison.Ordinal);

        // A co-worker in the channel, and one who is not, read the profile with signed URLs; each size is a green square.
        foreach (var reader in new[] { t.Bob, t.Carol })
        {
            var seen = await reader.Ok("GET", $"/v1/users/{t.Ada.UserId}?minPosition={position}");
            var urls = UrlsOf(seen);
            Assert.Equal(AvatarSizes, urls.Keys.Order());
            foreach (var (size, url) in urls)
            {
                using var got = await store.GetAsync(url);
                Assert.Equal(HttpStatusCode.OK, got.StatusCode);
                Assert.Equal("image/webp", got.Content.Headers.ContentType?.MediaType);
                var bytes = await got.Content.ReadAsByteArrayAsync();
                Assert.Equal((size, size), TestImages.SizeOf(bytes));
                foreach (var (x, y) in new[] { (size / 2, size / 2), (1, 1), (size - 2, size - 2) })
                {
                    var color = TestImages.ColorAt(bytes, x, y);
                    Assert.True(TestImages.Near(color, SKColors.Lime), $"{size} px at ({x}, {y}): {color}");
                }
            }
        }
        await Problems.AssertAsync(await dave.SendAsync("GET", $"/v1/users/{t.Ada.UserId}?minPosition={position}"), HttpStatusCode.NotFound, "not_found");

        // The member lists and a page's authors carry the same URLs.
        var directory = await t.Carol.Ok("GET", $"/v1/workspaces/{t.Ws}/members?minPosition={position}");
        var inDirectory = directory.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("userId").GetString() == t.Ada.UserId);
        Assert.Equal(AvatarSizes, UrlsOf(inDirectory).Keys.Order());
        Assert.False(string.IsNullOrEmpty(inDirectory.GetProperty("avatarUrl").GetString()));
        var members = await t.Bob.Ok("GET", $"/v1/channels/{t.Ch}/members?minPosition={position}");
        Assert.Equal(AvatarSizes, UrlsOf(members.EnumerateArray().Single(m => m.GetProperty("userId").GetString() == t.Ada.UserId)).Keys.Order());
        var posted = await t.Ada.Ok("POST", $"/v1/channels/{t.Ch}/messages", new { text = "new face" }, HttpStatusCode.Created);
        var page = await t.Bob.Ok("GET", $"/v1/channels/{t.Ch}/messages?minPosition={posted.GetProperty("position").GetInt64()}");
        var author = page.GetProperty("authors").EnumerateArray().Single(a => a.GetProperty("userId").GetString() == t.Ada.UserId);
        Assert.Equal(AvatarSizes, UrlsOf(author).Keys.Order());
        Assert.Equal("new face", page.GetProperty("messages")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task An_author_removed_from_the_workspace_keeps_a_name_on_the_channel_s_pages_but_no_avatar()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        await SetAvatarAsync(t.Bob, store, t.Ws, TestImages.Png(80, 80));
        var posted = await t.Bob.Ok("POST", $"/v1/channels/{t.Ch}/messages", new { text = "my last words" }, HttpStatusCode.Created);
        var before = await t.Ada.Ok("GET", $"/v1/channels/{t.Ch}/messages?minPosition={posted.GetProperty("position").GetInt64()}");
        Assert.Equal(AvatarSizes, UrlsOf(Author(before, t.Bob.UserId)).Keys.Order());

        var removed = await t.Ada.Ok("DELETE", $"/v1/workspaces/{t.Ws}/members/{t.Bob.UserId}");
        var after = await t.Ada.Ok("GET", $"/v1/channels/{t.Ch}/messages?minPosition={removed.GetProperty("position").GetInt64()}");
        var bob = Author(after, t.Bob.UserId);
        Assert.Equal("bob", bob.GetProperty("displayName").GetString());
        Assert.Equal(JsonValueKind.Null, bob.GetProperty("avatarUrls").ValueKind); // no workspace shared any more
        await Problems.AssertAsync(await t.Ada.SendAsync("GET", $"/v1/users/{t.Bob.UserId}"), HttpStatusCode.NotFound, "not_found");
    }

    private static JsonElement Author(JsonElement page, string userId) =>
        page.GetProperty("authors").EnumerateArray().Single(a => a.GetProperty("userId").GetString() == userId);

    [Fact]
    public async Task An_avatar_stands_upright_as_the_photo_s_exif_orientation_says()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        // Stored pixels: red left half, blue right half. Orientation 6 turns them a quarter clockwise: red on top.
        var stored = TestImages.Bands(200, 100, SKEncodedImageFormat.Jpeg, SKColors.Red, SKColors.Blue);
        foreach (var (orientation, first, second, vertical) in new (ushort, SKColor, SKColor, bool)[]
        {
            (1, SKColors.Red, SKColors.Blue, false), // as stored: red left
            (6, SKColors.Red, SKColors.Blue, true),  // turned clockwise: red on top
            (8, SKColors.Blue, SKColors.Red, true),  // turned anticlockwise: blue on top
        })
        {
            var answer = await SetAvatarAsync(t.Ada, store, t.Ws, TestImages.WithExifOrientation(stored, orientation), $"photo-{orientation}.jpg");
            using var got = await store.GetAsync(UrlsOf(answer)[72]);
            var bytes = await got.Content.ReadAsByteArrayAsync();
            var (a, b) = vertical ? (TestImages.ColorAt(bytes, 36, 12), TestImages.ColorAt(bytes, 36, 60)) : (TestImages.ColorAt(bytes, 12, 36), TestImages.ColorAt(bytes, 60, 36));
            Assert.True(TestImages.Near(a, first) && TestImages.Near(b, second), $"orientation {orientation}: {a}, {b}");
        }
    }

    [Fact]
    public async Task Replacing_or_removing_an_avatar_deletes_the_old_sizes_and_a_swept_source_leaves_it()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var first = await SetAvatarAsync(t.Ada, store, t.Ws, TestImages.Png(120, 90));
        var firstFile = (await UserEventAsync(first.GetProperty("position").GetInt64())).Data.GetProperty("fileId").GetString()!;
        Assert.True(await StoredAsync(Avatars.ObjectIdOf(firstFile, 512)));

        // The same file again: nothing appended.
        var count = await EventCountAsync();
        await t.Ada.Ok("PATCH", "/v1/users/me", new { avatarFileId = firstFile });
        Assert.Equal(count, await EventCountAsync());

        var second = await SetAvatarAsync(t.Ada, store, t.Ws, TestImages.Jpeg(90, 120), "me.jpg");
        var secondFile = (await UserEventAsync(second.GetProperty("position").GetInt64())).Data.GetProperty("fileId").GetString()!;
        foreach (var size in AvatarSizes)
        {
            Assert.False(await StoredAsync(Avatars.ObjectIdOf(firstFile, size)), $"{size}: the replaced avatar's size is still stored");
            Assert.True(await StoredAsync(Avatars.ObjectIdOf(secondFile, size)));
        }

        // Its source, never posted, is swept after its expiry: the avatar stays.
        await using (var expire = Db.DataSource.CreateCommand("update ws_files set expires_at = now() - interval '1 second' where file_id = $1"))
        {
            expire.Parameters.AddWithValue(secondFile);
            await expire.ExecuteNonQueryAsync();
        }
        Assert.True(await Host.Services.GetRequiredService<FileSweeper>().SweepOnceAsync(default) >= 1);
        Assert.False(await StoredAsync(secondFile));
        using (var still = await store.GetAsync(UrlsOf(await t.Bob.Ok("GET", $"/v1/users/{t.Ada.UserId}?minPosition={second.GetProperty("position").GetInt64()}"))[32]))
        {
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        }

        // "" removes it: initials again, the sizes deleted; removing again appends nothing.
        var removed = await t.Ada.Ok("PATCH", "/v1/users/me", new { avatarFileId = "" });
        Assert.Equal(JsonValueKind.Null, removed.GetProperty("avatarUrl").ValueKind);
        Assert.Equal(JsonValueKind.Null, removed.GetProperty("avatarUrls").ValueKind);
        Assert.Equal("user.avatar_removed.v1", (await UserEventAsync(removed.GetProperty("position").GetInt64())).Type);
        Assert.False(await StoredAsync(Avatars.ObjectIdOf(secondFile, 192)));
        var seen = await t.Bob.Ok("GET", $"/v1/users/{t.Ada.UserId}?minPosition={removed.GetProperty("position").GetInt64()}");
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("avatarUrl").ValueKind);
        count = await EventCountAsync();
        await t.Ada.Ok("PATCH", "/v1/users/me", new { avatarFileId = "" });
        Assert.Equal(count, await EventCountAsync());
    }

    [Fact]
    public async Task A_file_that_is_not_the_caller_s_completed_image_is_refused_and_nothing_is_written()
    {
        var t = await TeamAsync();
        using var store = StoreClient();
        var (bobs, _) = await Uploads.UploadAsync(t.Bob, store, t.Ws, TestImages.Png(64, 64), "bob.png", "image/png");
        var (text, _) = await Uploads.UploadAsync(t.Ada, store, t.Ws, Text(500), "notes.txt");
        var (corrupt, _) = await Uploads.UploadAsync(t.Ada, store, t.Ws, Png, "corrupt.png", "image/png"); // a PNG signature, then text
        var (bomb, _) = await Uploads.UploadAsync(t.Ada, store, t.Ws, TestImages.BombPng(30_000, 30_000), "bomb.png", "image/png");
        var pending = (await t.Ada.Ok("POST", "/v1/files", new { name = "later.png", size = 100, contentType = "image/png", workspaceId = t.Ws }, HttpStatusCode.Created))
            .GetProperty("fileId").GetString()!;
        var count = await EventCountAsync();
        foreach (var (id, why) in new[]
        {
            (bobs, "someone else's image"), (text, "not an image"), (corrupt, "not decodable"), (bomb, "a bomb's header"),
            (pending, "bytes not uploaded"), (new string('0', 32), "unknown"), ("../etc/passwd", "not an id"), (" ", "blank"),
        })
        {
            var problem = await t.Ada.Problem("PATCH", "/v1/users/me", new { displayName = "Ada L.", avatarFileId = id }, HttpStatusCode.BadRequest, "invalid_request");
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()), why);
        }
        Assert.Equal(count, await EventCountAsync()); // not even the name
        foreach (var size in AvatarSizes)
        {
            Assert.False(await StoredAsync(Avatars.ObjectIdOf(corrupt, size)));
        }
    }
}
