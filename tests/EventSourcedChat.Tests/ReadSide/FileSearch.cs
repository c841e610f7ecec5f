using System.Net;
using System.Text;
using EventSourcedChat.Tests.Infrastructure;

namespace EventSourcedChat.Tests.ReadSide;

/// <summary>
/// Search and files: a message is found by the names of the files it carries, and <c>has:file</c> / <c>has:image</c>
/// narrow a search, alone or with words, the other operators and the filters. Through the real host and embedded store.
/// </summary>
public sealed class FileSearch(PostgresFixture db) : ApiTest(db)
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. Encoding.ASCII.GetBytes("pixels")];
    private static readonly byte[] Svg = Encoding.ASCII.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>");
    private static readonly byte[] Log = Encoding.ASCII.GetBytes("started\nstopped\n");

    private sealed record Hit(string ChannelId, long Seq, string Text, string Highlight, string UserId);

    private static async Task<(long Seq, long Position)> PostAsync(TestUser user, string ch, string text, params string[] files)
    {
        var answer = await user.Ok("POST", $"/v1/channels/{ch}/messages", new { text, files }, HttpStatusCode.Created);
        return (answer.GetProperty("seq").GetInt64(), answer.GetProperty("position").GetInt64());
    }

    private async Task<string> UploadAsync(TestUser user, string ws, byte[] bytes, string name)
    {
        using var store = Anonymous();
        return (await Uploads.UploadAsync(user, store, ws, bytes, name)).FileId;
    }

    private static async Task<List<Hit>> SearchAsync(TestUser user, string ws, string q, long minPosition, string extra = "")
    {
        var body = await user.Ok("GET", $"/v1/search?workspaceId={ws}&q={Uri.EscapeDataString(q)}&minPosition={minPosition}{extra}");
        return body.GetProperty("results").EnumerateArray().Select(r => new Hit(r.GetProperty("channelId").GetString()!,
            r.GetProperty("seq").GetInt64(), r.GetProperty("text").GetString()!, r.GetProperty("highlight").GetString()!,
            r.GetProperty("userId").GetString()!)).ToList();
    }

    private static async Task<List<string>> TextsAsync(TestUser user, string ws, string q, long minPosition, string extra = "") =>
        (await SearchAsync(user, ws, q, minPosition, extra)).Select(h => h.Text).ToList();

    [Fact]
    public async Task A_message_is_found_by_a_word_or_a_fragment_of_its_file_s_name_with_the_name_highlighted()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        var report = await UploadAsync(ada, ws, Log, "Quarterly-Report_2024.pdf");
        var withFile = await PostAsync(ada, ch, "numbers for the board", report);
        var last = (await PostAsync(ada, ch, "the report comes tomorrow")).Position;

        var byWord = await SearchAsync(ada, ws, "quarterly", last);
        var byFragment = await SearchAsync(ada, ws, "report_20", last);
        var byExtension = await SearchAsync(ada, ws, ".pdf", last);

        var hit = Assert.Single(byWord);
        Assert.Equal((ch, withFile.Seq, "numbers for the board"), (hit.ChannelId, hit.Seq, hit.Text));
        Assert.Contains("<mark>Quarterly</mark>", hit.Highlight, StringComparison.Ordinal);
        Assert.Equal("Quarterly-<mark>Report_20</mark>24.pdf", Assert.Single(byFragment).Highlight);
        Assert.Equal(withFile.Seq, Assert.Single(byExtension).Seq);
        // A word in a text and in a file name finds both messages.
        Assert.Equal(2, (await SearchAsync(ada, ws, "report", last)).Count);
    }

    [Fact]
    public async Task Has_file_and_has_image_list_the_messages_carrying_them_newest_first_and_narrow_words()
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var ch = await ChannelAsync(ada, ws);
        await PostAsync(ada, ch, "deploy notes without a file");
        await PostAsync(ada, ch, "deploy log", await UploadAsync(ada, ws, Log, "deploy.log"));
        await PostAsync(ada, ch, "deploy diagram", await UploadAsync(ada, ws, Svg, "diagram.svg"));
        await PostAsync(ada, ch, "deploy screenshot", await UploadAsync(ada, ws, Png, "screen.png"));
        var last = (await PostAsync(ada, ch, "lunch photo", await UploadAsync(ada, ws, Png, "lunch.png"))).Position;

        Assert.Equal(["lunch photo", "deploy screenshot", "deploy diagram", "deploy log"], await TextsAsync(ada, ws, "has:file", last));
        Assert.Equal(["lunch photo", "deploy screenshot"], await TextsAsync(ada, ws, "has:image", last)); // SVG is not an image here
        Assert.Equal(["deploy screenshot"], await TextsAsync(ada, ws, "deploy has:image", last));
        Assert.Equal(["deploy screenshot"], await TextsAsync(ada, ws, "HAS:IMAGE ploy", last)); // the substring path too
        Assert.Equal(3, (await SearchAsync(ada, ws, "has:file deploy", last)).Count);
        Assert.Equal(4, (await SearchAsync(ada, ws, "deploy", last)).Count);
        var listed = await SearchAsync(ada, ws, "has:image", last, "&limit=1");
        Assert.Equal("lunch photo", Assert.Single(listed).Highlight); // no match to mark: the start of the text
    }

    [Fact]
    public async Task File_operators_combine_with_in_from_the_filters_and_deletion()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var general = await ChannelAsync(ada, ws, "general");
        var random = await ChannelAsync(ada, ws, "random");
        await bob.Ok("POST", $"/v1/channels/{general}/join");
        await bob.Ok("POST", $"/v1/channels/{random}/join");
        await PostAsync(ada, general, "ada in general", await UploadAsync(ada, ws, Png, "a.png"));
        await PostAsync(bob, general, "bob in general", await UploadAsync(bob, ws, Png, "b.png"));
        var gone = await PostAsync(bob, random, "bob in random", await UploadAsync(bob, ws, Png, "c.png"));
        var last = (await PostAsync(bob, random, "bob in random without a file")).Position;

        Assert.Equal(["bob in random", "bob in general"], await TextsAsync(ada, ws, $"has:image from:{bob.UserId}", last));
        Assert.Equal(["bob in general", "ada in general"], await TextsAsync(ada, ws, $"in:{general} has:file", last));
        Assert.Equal(["bob in general"], await TextsAsync(ada, ws, $"in:{general} has:image", last, $"&fromUserId={bob.UserId}"));
        Assert.Equal(["bob in random"], await TextsAsync(ada, ws, "bob has:file", last, $"&channelId={random}"));
        Assert.Equal(["bob in random", "bob in random without a file"], (await TextsAsync(ada, ws, $"bob in:{random}", last)).Order(StringComparer.Ordinal));
        Assert.Empty(await TextsAsync(ada, ws, "has:image", last, "&after=2999-01-01"));

        var deleted = (await bob.Ok("DELETE", $"/v1/channels/{random}/messages/{gone.Seq}")).GetProperty("position").GetInt64();

        Assert.Equal(["bob in general", "ada in general"], await TextsAsync(ada, ws, "has:image", deleted));
        Assert.Empty(await TextsAsync(ada, ws, "c.png", deleted));
    }

    [Theory]
    [InlineData("has:pdf")]
    [InlineData("report has:")]
    [InlineData("in:")]
    [InlineData("from:")]
    [InlineData("in:{general} in:{random}")]
    [InlineData("in:{general}&channelId={random}")]
    [InlineData("from:{ada}&fromUserId=someone-else")]
    public async Task Malformed_or_conflicting_operators_are_invalid_request(string query)
    {
        var ada = await RegisterAsync("ada");
        var ws = await WorkspaceAsync(ada);
        var general = await ChannelAsync(ada, ws, "general");
        var random = await ChannelAsync(ada, ws, "random");
        var (q, extra) = query.Split('&', 2) is [var head, var tail] ? (head, "&" + tail) : (query, "");
        string Fill(string s) => s.Replace("{general}", general, StringComparison.Ordinal)
            .Replace("{random}", random, StringComparison.Ordinal).Replace("{ada}", ada.UserId, StringComparison.Ordinal);

        await ada.Problem("GET", $"/v1/search?workspaceId={ws}&q={Uri.EscapeDataString(Fill(q))}{Fill(extra)}", null,
            HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task In_a_channel_the_caller_cannot_see_is_not_found()
    {
        var ada = await RegisterAsync("ada");
        var bob = await RegisterAsync("bob");
        var ws = await WorkspaceAsync(ada, bob);
        var secret = await ChannelAsync(ada, ws, "secret", isPrivate: true);
        var last = (await PostAsync(ada, secret, "the plan", await UploadAsync(ada, ws, Png, "plan.png"))).Position;

        await bob.Problem("GET", $"/v1/search?workspaceId={ws}&q={Uri.EscapeDataString($"has:image in:{secret}")}&minPosition={last}",
            null, HttpStatusCode.NotFound, "not_found");
        Assert.Empty(await TextsAsync(bob, ws, "has:image", last));
        Assert.Equal(["the plan"], await TextsAsync(ada, ws, $"has:image in:{secret}", last));
    }
}
