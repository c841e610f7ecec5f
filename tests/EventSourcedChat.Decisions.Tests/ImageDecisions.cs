using System.Text.Json;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Messages;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Contracts.Realtime;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

/// <summary>An image's dimensions and thumbnail, recorded with its upload, travel in the <c>files</c> of a post, its stored data and its push.</summary>
public class PostingImages
{
    private const string Photo = "0000000000000000000000000000f001";
    private const string Log = "0000000000000000000000000000f002";
    private static readonly Thumbnail Thumb = new(Thumbnails.ObjectIdOf(Photo), 360, 270, "image/webp");

    private static readonly FileRow[] Uploads =
    [
        new(Photo, W, Bob, "photo.png", 10, "image/png", new string('a', 64), true, new ImageFacts(800, 600, Thumb)),
        new(Log, W, Bob, "build.log", 10, "text/plain", new string('b', 64), true),
    ];

    private static MessagePosted Post() =>
        PostMessageEndpoint.Decide(Workspace(), General(), new PostMessage("look", null, null, [Photo, Log]), "m1", Bob, Uploads, maxFiles: 2);

    [Fact]
    public void A_post_carries_an_image_s_dimensions_and_thumbnail_and_nothing_more_for_other_files()
    {
        var files = Post().Files!;
        Assert.Equal(new SharedFile(Photo, "photo.png", 10, "image/png", new string('a', 64), 800, 600, Thumb), files[0]);
        Assert.Equal(new SharedFile(Log, "build.log", 10, "text/plain", new string('b', 64)), files[1]);
    }

    [Fact]
    public void The_stored_data_has_them_for_the_image_and_no_such_fields_for_other_files_as_before_thumbnails()
    {
        var stored = JsonSerializer.SerializeToElement(Post(), EventTypes.Json).GetProperty("files");
        var image = stored[0];
        Assert.Equal(800, image.GetProperty("width").GetInt32());
        Assert.Equal(600, image.GetProperty("height").GetInt32());
        Assert.Equal(Thumb.ObjectId, image.GetProperty("thumbnail").GetProperty("objectId").GetString());
        Assert.Equal(360, image.GetProperty("thumbnail").GetProperty("width").GetInt32());
        Assert.Equal(["fileId", "name", "size", "contentType", "sha256"], stored[1].EnumerateObject().Select(p => p.Name));
        // An event stored before thumbnails reads back as a file without them.
        var old = JsonSerializer.Deserialize<SharedFile>("""{"fileId":"x","name":"a.png","size":1,"contentType":"image/png","sha256":"00"}""", EventTypes.Json)!;
        Assert.Null(old.Width);
        Assert.Null(old.Thumbnail);
    }

    [Fact]
    public void The_pushed_message_posted_data_carries_width_and_height_so_a_client_lays_out_before_loading()
    {
        var data = JsonSerializer.Serialize(Post(), EventTypes.Json);
        var push = PushRouting.ToMessage($"{PushRouting.ChannelStreamPrefix}{C}", 7, "message.posted.v1", data, 1, 70, DateTimeOffset.UtcNow)!;
        var image = push.Data.GetProperty("files")[0];
        Assert.Equal(800, image.GetProperty("width").GetInt32());
        Assert.Equal(600, image.GetProperty("height").GetInt32());
        Assert.False(push.Data.GetProperty("files")[1].TryGetProperty("width", out _));
    }

    [Fact]
    public void A_thumbnail_s_object_id_is_derived_from_its_file_s_and_is_an_object_id()
    {
        Assert.Equal(Thumbnails.ObjectIdOf(Photo), Thumbnails.ObjectIdOf(Photo));
        Assert.NotEqual(Thumbnails.ObjectIdOf(Photo), Thumbnails.ObjectIdOf(Log));
        Assert.Matches("^[0-9a-f]{32}$", Thumbnails.ObjectIdOf(Photo));
        Assert.Equal("photo-thumbnail.webp", Thumbnails.NameFor("photo.png", Thumb));
    }
}
