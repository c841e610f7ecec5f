using System.Text;
using EventSourcedChat.Commands.Files;
using EventSourcedChat.Commands.Messages;
using EventSourcedChat.Contracts.Api;
using EventSourcedChat.Contracts.Events;
using EventSourcedChat.Contracts.Files;
using static EventSourcedChat.Decisions.Tests.Given;

namespace EventSourcedChat.Decisions.Tests;

public class AskingForAnUpload
{
    private const string F = "0000000000000000000000000000f001";
    private static readonly FileSettings Limits = new() { MaxFileBytes = 1000, WorkspaceQuotaBytes = 5000 };

    private static FileRow Ask(string by, string? name = "report.pdf", long? size = 100, string? type = "application/pdf", long usage = 0) =>
        RequestUploadEndpoint.Decide(Workspace(), usage, new RequestUpload(name, size, type, W), Limits, F, by);

    [Fact]
    public void A_member_asks_and_gets_a_pending_upload_of_the_declared_size() =>
        Assert.Equal(new FileRow(F, W, Bob, "report.pdf", 100, "application/pdf", null, false), Ask(Bob, name: "  report.pdf "));

    [Fact]
    public void Someone_outside_the_workspace_is_told_it_does_not_exist() =>
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => Ask(Dave)));

    [Fact]
    public void A_file_over_the_size_limit_is_payload_too_large_and_over_the_quota_is_quota_exceeded()
    {
        Assert.Equal(ErrorCodes.PayloadTooLarge, RejectionOf(() => Ask(Bob, size: 1001)));
        Assert.Equal(ErrorCodes.QuotaExceeded, RejectionOf(() => Ask(Bob, size: 1000, usage: 4001)));
        Assert.Equal(F, Ask(Bob, size: 1000, usage: 4000).FileId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a/b.txt")]
    [InlineData("..\\x")]
    [InlineData("..")]
    [InlineData("bell\u0007.txt")]
    [InlineData("replaced\uFFFD.txt")]
    public void A_bad_name_is_invalid(string? name) => Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Ask(Bob, name: name)));

    [Theory]
    [InlineData(0L, "text/plain")]
    [InlineData(-1L, "text/plain")]
    [InlineData(null, "text/plain")]
    [InlineData(10L, "text")]
    [InlineData(10L, "<script>/x")]
    public void A_bad_size_or_type_is_invalid(long? size, string type) =>
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Ask(Bob, size: size, type: type)));
}

public class PostingFiles
{
    private const string F1 = "0000000000000000000000000000f001";
    private const string F2 = "0000000000000000000000000000f002";

    private static FileRow Uploaded(string id, string by = Bob, string workspace = W) =>
        new(id, workspace, by, $"{id}.png", 10, "image/png", new string('a', 64), true);

    private static MessagePosted Post(PostMessage command, params FileRow[] files) =>
        PostMessageEndpoint.Decide(Workspace(), General(), command, "m1", Bob, files, maxFiles: 2);

    [Fact]
    public void A_post_carries_its_author_s_uploads_with_their_metadata_and_hash_in_the_order_named()
    {
        var posted = Post(new PostMessage("look", null, null, [F2, F1]), Uploaded(F1), Uploaded(F2));
        Assert.Equal([F2, F1], posted.Files!.Select(f => f.FileId));
        Assert.Equal(new SharedFile(F1, $"{F1}.png", 10, "image/png", new string('a', 64)), posted.Files![1]);
    }

    [Fact]
    public void A_post_with_files_needs_no_text_and_one_without_files_still_does()
    {
        var posted = Post(new PostMessage("  ", null, null, [F1]), Uploaded(F1));
        Assert.Equal("", posted.Text);
        Assert.Equal([F1], posted.Files!.Select(f => f.FileId));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Post(new PostMessage("  ", null, null, []))));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Post(new PostMessage(null, null, null, [F1]))));
    }

    [Fact]
    public void A_post_without_files_carries_none() => Assert.Null(Post(new PostMessage("hi", null, null, [])).Files);

    [Fact]
    public void Someone_else_s_file_another_workspace_s_a_pending_or_unknown_one_is_refused_the_same_way()
    {
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Post(new PostMessage("x", null, null, [F1]), Uploaded(F1, by: Carol))));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Post(new PostMessage("x", null, null, [F1]), Uploaded(F1, workspace: C))));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Post(new PostMessage("x", null, null, [F1]), Uploaded(F1) with { Uploaded = false, Sha256 = null })));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Post(new PostMessage("x", null, null, [F1]))));
    }

    [Fact]
    public void Too_many_or_repeated_files_are_refused()
    {
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => Post(new PostMessage("x", null, null, [F1, F1]), Uploaded(F1))));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() =>
            Post(new PostMessage("x", null, null, [F1, F2, "0000000000000000000000000000f003"]), Uploaded(F1), Uploaded(F2))));
    }
}

public class FileTypesFromBytes
{
    [Theory]
    [InlineData("89504E470D0A1A0A0000", "image/png")]
    [InlineData("FFD8FFE000104A464946", "image/jpeg")]
    [InlineData("474946383961", "image/gif")]
    [InlineData("524946461234567857454250565038", "image/webp")]
    [InlineData("255044462D312E37", "application/pdf")]
    [InlineData("504B0304", "application/zip")]
    [InlineData("00010203", "application/octet-stream")]
    public void Binary_types_come_from_their_signatures(string hex, string expected) =>
        Assert.Equal(expected, FileTypes.Sniff(Convert.FromHexString(hex)));

    [Theory]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>", "image/svg+xml")]
    [InlineData("\uFEFF  <?xml version=\"1.0\"?>\n<svg/>", "image/svg+xml")]
    [InlineData("<!DOCTYPE html><p>hi", "text/html")]
    [InlineData("  <script>alert(1)</script>", "text/html")]
    [InlineData("just a log line\nand another", "text/plain")]
    [InlineData("", "text/plain")]
    public void Text_that_a_browser_would_run_is_found_as_such(string text, string expected) =>
        Assert.Equal(expected, FileTypes.Sniff(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Only_raster_images_show_inline()
    {
        Assert.All(new[] { "image/png", "image/jpeg", "image/gif", "image/webp" }, t => Assert.True(FileTypes.ShowsInline(t)));
        Assert.All(new[] { "image/svg+xml", "text/html", "text/plain", "application/pdf" }, t => Assert.False(FileTypes.ShowsInline(t)));
    }
}

public class CompletingAnUpload
{
    private const string F = "0000000000000000000000000000f002";
    private static readonly FileRow Pending = new(F, W, Bob, "log.txt", 100, "text/plain", null, false);
    private static readonly FileRow Uploaded = Pending with { Sha256 = new string('a', 64), Uploaded = true };

    [Fact]
    public void Its_uploader_takes_the_bytes_of_a_pending_upload_and_completing_an_uploaded_one_again_answers_it()
    {
        Assert.Equal(CompletionStep.TakeBytes, CompleteUploadEndpoint.Decide(Pending, Bob));
        Assert.Equal(CompletionStep.AlreadyUploaded, CompleteUploadEndpoint.Decide(Uploaded, Bob));
    }

    [Fact]
    public void Anyone_else_or_an_unknown_file_is_told_it_does_not_exist()
    {
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => CompleteUploadEndpoint.Decide(Pending, Carol)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => CompleteUploadEndpoint.Decide(Uploaded, Carol)));
        Assert.Equal(ErrorCodes.NotFound, RejectionOf(() => CompleteUploadEndpoint.Decide(null, Bob)));
    }

    [Fact]
    public void No_bytes_yet_is_invalid_more_than_asked_too_large_fewer_invalid_and_the_right_size_accepted()
    {
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => CompleteUploadEndpoint.Judge(UploadReceipt.Nothing, 100)));
        Assert.Equal(ErrorCodes.PayloadTooLarge, RejectionOf(() => CompleteUploadEndpoint.Judge(new UploadReceipt(UploadOutcome.WrongSize, 101), 100)));
        Assert.Equal(ErrorCodes.InvalidRequest, RejectionOf(() => CompleteUploadEndpoint.Judge(new UploadReceipt(UploadOutcome.WrongSize, 99), 100)));
        var received = new UploadReceipt(UploadOutcome.Received, 100, new string('b', 64), "text/plain");
        Assert.Equal(received, CompleteUploadEndpoint.Judge(received, 100));
    }
}
