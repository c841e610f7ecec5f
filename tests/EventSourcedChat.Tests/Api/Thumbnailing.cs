using EventSourcedChat.Contracts.Files;
using EventSourcedChat.Gateway.Files;
using EventSourcedChat.Tests.Infrastructure;
using SkiaSharp;

namespace EventSourcedChat.Tests.Api;

/// <summary>The thumbnailer itself, on real image bytes (SkiaSharp's native library loads and runs here).</summary>
public class Thumbnailing
{
    private static readonly FileSettings Settings = new();

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, 1200, 900, 360, 270)]
    [InlineData(SKEncodedImageFormat.Jpeg, 2000, 500, 360, 90)]
    [InlineData(SKEncodedImageFormat.Webp, 100, 720, 50, 360)]
    [InlineData(SKEncodedImageFormat.Png, 1, 5000, 1, 360)]
    public void An_image_is_scaled_to_the_longest_side_keeping_its_aspect(SKEncodedImageFormat format, int width, int height, int thumbWidth, int thumbHeight)
    {
        var made = ImageThumbnails.Make(TestImages.Encode(width, height, format), Settings);
        Assert.Equal(ThumbnailOutcome.Made, made.Outcome);
        Assert.Equal((width, height, thumbWidth, thumbHeight), (made.Width, made.Height, made.ThumbWidth, made.ThumbHeight));
        Assert.Equal((thumbWidth, thumbHeight), TestImages.SizeOf(made.Bytes!));
    }

    [Theory]
    [InlineData(1, false, 0xFF0000, 0x0000FF)] // as stored: red left, blue right
    [InlineData(6, true, 0xFF0000, 0x0000FF)]  // turned a quarter clockwise: red on top
    [InlineData(8, true, 0x0000FF, 0xFF0000)]  // turned a quarter anticlockwise: blue on top
    [InlineData(3, false, 0x0000FF, 0xFF0000)] // turned half round: blue left
    public void A_photo_stored_sideways_gets_an_upright_thumbnail_and_its_upright_size(ushort orientation, bool turned, uint first, uint second)
    {
        // Stored pixels: 800 x 400, red left half, blue right half, as a phone held sideways writes them.
        var photo = TestImages.WithExifOrientation(TestImages.Bands(800, 400, SKEncodedImageFormat.Jpeg, SKColors.Red, SKColors.Blue), orientation);

        var made = ImageThumbnails.Make(photo, Settings);

        Assert.Equal(ThumbnailOutcome.Made, made.Outcome);
        var expected = turned ? (400, 800, 180, 360) : (800, 400, 360, 180);
        Assert.Equal(expected, (made.Width, made.Height, made.ThumbWidth, made.ThumbHeight));
        Assert.Equal((made.ThumbWidth, made.ThumbHeight), TestImages.SizeOf(made.Bytes!));
        var (a, b) = turned
            ? (TestImages.ColorAt(made.Bytes!, 90, 40), TestImages.ColorAt(made.Bytes!, 90, 320))
            : (TestImages.ColorAt(made.Bytes!, 40, 90), TestImages.ColorAt(made.Bytes!, 320, 90));
        Assert.True(TestImages.Near(a, new SKColor(first | 0xFF000000)) && TestImages.Near(b, new SKColor(second | 0xFF000000)),
            $"orientation {orientation}: {a}, {b}");
    }

    [Fact]
    public void A_gif_gets_its_first_frame()
    {
        var gif = Convert.FromBase64String("R0lGODlhAgABAIAAAP///wAAACwAAAAAAgABAAACAkQKADs="); // 2x1, two colours
        var made = ImageThumbnails.Make(gif, Settings);
        Assert.Equal((ThumbnailOutcome.Made, 2, 1), (made.Outcome, made.ThumbWidth, made.ThumbHeight));
    }

    [Fact]
    public void A_header_declaring_more_pixels_than_allowed_is_refused_before_decoding()
    {
        var bomb = ImageThumbnails.Make(TestImages.BombPng(30_000, 30_000), Settings);
        Assert.Equal((ThumbnailOutcome.TooManyPixels, 30_000, 30_000), (bomb.Outcome, bomb.Width, bomb.Height));
        Assert.Null(bomb.Bytes);
        // The limit is configuration: a small one refuses a real image too.
        Assert.Equal(ThumbnailOutcome.TooManyPixels, ImageThumbnails.Make(TestImages.Png(100, 100), Settings with { ThumbnailMaxPixels = 9_999 }).Outcome);
    }

    [Fact]
    public void Bytes_that_do_not_decode_whole_get_no_thumbnail()
    {
        var jpeg = TestImages.Jpeg(300, 300);
        Assert.Equal(ThumbnailOutcome.Undecodable, ImageThumbnails.Make([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3], Settings).Outcome);
        Assert.Equal(ThumbnailOutcome.Undecodable, ImageThumbnails.Make(jpeg[..(jpeg.Length / 2)], Settings).Outcome);
        Assert.Equal(ThumbnailOutcome.Undecodable, ImageThumbnails.Make([], Settings).Outcome);
        Assert.Equal(ThumbnailOutcome.TooLarge, ImageThumbnails.Make(jpeg, Settings with { ThumbnailMaxSourceBytes = 100 }).Outcome);
    }
}
